package org.xlstm4j;

import org.junit.jupiter.api.Tag;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test that holds two code paths bit-identical through kernels with JIT-dependent last bits. C2 compiles the
 * Vector API's {@code lanewise(EXP/TANH/LOG1P)} to SVML calls and {@code reduceLanes(ADD)} to its own summation order,
 * while the interpreter and C1 run the Java definitions (Math.exp per lane, lanes summed in order); which one a call
 * gets depends on when the JIT compiled the kernel, so two runs in one JVM can differ in the last bit. Maven runs these
 * tests in a separate JVM limited to C1 ({@code -XX:TieredStopAtLevel=1}, the {@code exact-math} execution in pom.xml),
 * where every call takes the Java definition and the comparison checks the algorithm, not the JIT's timing.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Tag("exact-math")
public @interface ExactMath {
    /** True in the exact-math JVM (surefire sets {@code -Dxlstm4j.exactMath=true} there). */
    boolean IN_THIS_JVM = Boolean.getBoolean("xlstm4j.exactMath");
}
