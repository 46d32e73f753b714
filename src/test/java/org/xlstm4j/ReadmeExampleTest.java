package org.xlstm4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's Java example compiles against the library as it is (it is not run: it trains on a user's file). The
 * imports stay at the top; the statements go into a {@code main} method, as a reader would paste them.
 */
class ReadmeExampleTest {
    @Test void javaExampleCompiles(@TempDir Path out) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("```java\n");
        assertTrue(start >= 0, "README.md has no ```java block");
        int end = readme.indexOf("\n```", start + 8);
        List<String> imports = new ArrayList<>(), body = new ArrayList<>();
        for (String line : readme.substring(start + 8, end).split("\n"))
            (line.startsWith("import ") ? imports : body).add(line);
        String source = String.join("\n", imports) + "\npublic class ReadmeExample {\n"
                + "    public static void main(String[] args) throws Exception {\n" + String.join("\n", body) + "\n    }\n}\n";
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no system Java compiler (a JDK is needed)");
        JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///ReadmeExample.java"), JavaFileObject.Kind.SOURCE) {
            @Override public CharSequence getCharContent(boolean ignoreEncodingErrors) { return source; }
        };
        StringWriter diagnostics = new StringWriter();
        boolean ok = javac.getTask(diagnostics, null, null,
                List.of("--add-modules", "jdk.incubator.vector", "-proc:none", "-d", out.toString(),
                        "-cp", System.getProperty("java.class.path")), null, List.of(file)).call();
        assertTrue(ok, "the README's Java example does not compile:\n" + diagnostics + "\n--- source ---\n" + source);
    }
}
