package org.xlstm4j;

import org.junit.jupiter.api.Tag;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test that runs twice: in the ordinary JVM, where it checks SIMD kernels as C2 compiles them, and again in the
 * exact-math JVM ({@link ExactMath}), where its self-comparisons (in place vs out of place, serial vs threads) must be
 * bit-identical. In the ordinary JVM those comparisons allow what JIT timing can change ({@link ExactMath#IN_THIS_JVM}).
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Tag("also-exact-math")
public @interface AlsoExactMath {}
