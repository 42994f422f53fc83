#!/usr/bin/env bash
# Runs the test suite (builds first when needed).
#   scripts/test.sh                      all tests, normal build in build/
#   scripts/test.sh --sanitize=thread    runtime and mesh tests under ThreadSanitizer (build-tsan/)
#   scripts/test.sh --sanitize=address   runtime and mesh tests under AddressSanitizer+UBSan (build-asan/)
# Extra arguments after -- go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

SANITIZE=""
CTEST_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize=*) SANITIZE="${1#*=}"; shift ;;
    --sanitize) SANITIZE="$2"; shift 2 ;;
    --) shift; CTEST_ARGS+=("$@"); break ;;
    *) echo "test.sh: unknown argument '$1'" >&2; exit 1 ;;
  esac
done

case "$SANITIZE" in
  "") BUILD_DIR=build ;;
  thread) BUILD_DIR=build-tsan; export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ;;
  address) BUILD_DIR=build-asan; export ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1" ;;
  *) echo "test.sh: --sanitize must be thread or address" >&2; exit 1 ;;
esac

if [ -n "$SANITIZE" ]; then
  scripts/setup.sh --build-dir "$BUILD_DIR" --sanitize "$SANITIZE"
  # The runtime and the mesh are what the sanitizers are for; the node tests start processes
  # and are slow under instrumentation.
  CTEST_ARGS=(-R '^(Tiers/)?(Result|ActorId|MpscQueue|BoundedQueue|TimerService|Actor|Ask|CallDepth|DeadLetter|Shutdown|ForeignCells|RootSupervisor|Mailbox|Supervisor|Monitor|Link|Pool|Scheduler|CellTable|CanonicalAbi|AbiFunction|WorkloadContract|GuestModule|Wat|GuestInstance|Fuel|GuestSdk|GuestLimits|WasmActors|Aot|AotTraps|GuestBudget|Preemption|GuestFiber|AotCache|AotHostImports|LinearMemoryPool|ErrorCode|OperationsTest|ControlHandler|NodeIdentityTest|JobThread|Behavior|PlatformErrc|ActorStorePath|ActorStoreTest|Base64Url|CredentialRenewal|CredentialTest|DispatchTransactionTest|KeyCustodyTest|MasterKeyTest|PlatformServicesTest|SqliteConnectionTest|StorageService|GuestStorage|GuestSigning|GuestGrants|NativeActorContextTest|NativeKindFactoryTest|KindRegistry|NetErrc|Preamble|Lanes|Noise[A-Za-z]*|MeshTransport|MeshAddress|MeshConfig|PeerAllowlist|ClusterErrc|ClusterTable|ClusterMesh|Member[A-Za-z]*|GossipQueue|Suspicion[A-Za-z]*|LocalHealth|Swim[A-Za-z]*|RemoteActors[A-Za-z]*|RemoteSpawn[A-Za-z]*|RemoteGuestCalls|RealmTable|MeshFlowControl|RemoteFlowControl|RemoteStreamCodec)' "${CTEST_ARGS[@]}")
else
  scripts/setup.sh --build-dir "$BUILD_DIR"
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j2 "${CTEST_ARGS[@]}"
