#!/usr/bin/env bash
# Prepares what a GPU machine without a JDK or Maven needs to run xlstm4j's CUDA code and tests (issue 8):
#   .jlink/jre        a trimmed Java 25 runtime (jlink)
#   target/classes, target/lib            the project and its runtime dependencies
#   target/testlib    the JUnit jars, the CUDA test classes and scripts/CudaDeviceTests (a launcher main)
# The runtime leaves out java.desktop (charts; not needed for the CUDA bench and tests) and its libjvm.so is stripped,
# so that all of it travels within the device tool's 64 MiB (about 40 MiB for the runtime).
# On the GPU machine then:
#   .jlink/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
#       -cp 'target/classes:target/lib/*' org.xlstm4j.cli.Main bench cuda-mlstm
#   .jlink/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
#       -cp 'target/classes:target/lib/*:target/testlib/*:target/testlib/classes' CudaDeviceTests
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn -o -q -B -DskipTests test-compile dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=target/lib
M2=${M2_REPO:-$HOME/.m2/repository}
JUPITER=5.14.1 PLATFORM=1.14.1
mkdir -p target/testlib/classes
for jar in org/junit/jupiter/junit-jupiter-api/$JUPITER/junit-jupiter-api-$JUPITER.jar \
           org/junit/jupiter/junit-jupiter-engine/$JUPITER/junit-jupiter-engine-$JUPITER.jar \
           org/junit/platform/junit-platform-commons/$PLATFORM/junit-platform-commons-$PLATFORM.jar \
           org/junit/platform/junit-platform-engine/$PLATFORM/junit-platform-engine-$PLATFORM.jar \
           org/junit/platform/junit-platform-launcher/$PLATFORM/junit-platform-launcher-$PLATFORM.jar \
           org/opentest4j/opentest4j/1.3.0/opentest4j-1.3.0.jar \
           org/apiguardian/apiguardian-api/1.1.2/apiguardian-api-1.1.2.jar; do
  cp "$M2/$jar" target/testlib/
done
"$JAVA_HOME/bin/javac" -d target/testlib/classes -cp 'target/testlib/*' scripts/CudaDeviceTests.java
mkdir -p target/testlib/classes/org/xlstm4j
rm -rf target/testlib/classes/org/xlstm4j/cuda
cp -r target/test-classes/org/xlstm4j/cuda target/testlib/classes/org/xlstm4j/
if [ ! -x .jlink/jre/bin/java ]; then
  "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.management,jdk.management,java.logging,jdk.unsupported,java.naming \
      --strip-java-debug-attributes --strip-native-debug-symbols=exclude-debuginfo-files --no-man-pages \
      --no-header-files --compress=zip-9 --output .jlink/jre
  strip --strip-unneeded .jlink/jre/lib/server/libjvm.so
fi
du -sh .jlink target/classes target/lib target/testlib
