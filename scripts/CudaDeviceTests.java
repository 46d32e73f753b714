import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.io.PrintWriter;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

/**
 * Runs the JUnit tests of a package (default org.xlstm4j.cuda) with the JUnit Platform launcher, for machines that
 * have a Java runtime but no Maven (the GPU machine): one line per test, then the summary; exit 1 on any failure.
 * Compiled by scripts/cuda-device-prep.sh into target/testlib/classes.
 */
public final class CudaDeviceTests {
    public static void main(String[] args) {
        String pkg = args.length > 0 ? args[0] : "org.xlstm4j.cuda";
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectPackage(pkg)).build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener lines = new TestExecutionListener() {
            @Override public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest()) return;
                System.out.println(result.getStatus() + "  " + id.getLegacyReportingName() + "  " + id.getUniqueId()
                        + result.getThrowable().map(t -> "\n    " + t).orElse(""));
            }

            @Override public void executionSkipped(TestIdentifier id, String reason) {
                System.out.println("SKIPPED  " + id.getDisplayName() + ": " + reason);
            }
        };
        launcher.execute(request, summary, lines);
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printTo(out);
        s.printFailuresTo(out, 25);
        System.exit(s.getTotalFailureCount() == 0 && s.getTestsFoundCount() > 0 ? 0 : 1);
    }
}
