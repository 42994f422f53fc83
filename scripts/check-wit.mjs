// Checks troupe's WIT and guest ABI with wasm-tools (as packaged by jco):
//  1. both WIT packages parse (a dummy module is generated for each world);
//  2. the SDK-built all-imports guest, which has every import and export of the world, becomes
//     a component: wasm-tools checks each core import and export against the world's canonical
//     ABI (names and signatures) and adapts its WASI preview1 imports;
//  3. the core module wasm-tools generates for the world (its own names and signatures, the
//     cm32p2 scheme) equals tests/wasm/fixtures/wasm-tools-dummy.wasm, which the unit tests
//     load on both tiers (--update rewrites it).
// Run by scripts/check-wit.sh.
import { readFile, writeFile } from "node:fs/promises";
import { componentEmbed, componentNew, componentWit, preview1AdapterReactorPath } from "@bytecodealliance/jco";

const [root, guestDir, update] = [process.argv[2], process.argv[3], process.argv[4] === "--update"];
const workload = await readFile(`${root}/wit/actr-workload.wit`, "utf8");
const host = await readFile(`${root}/wit/troupe-host.wit`, "utf8");
let failed = false;
const check = async (what, fn) => {
  try {
    const note = await fn();
    console.log(`ok    ${what}${note ? ": " + note : ""}`);
  } catch (e) {
    failed = true;
    console.log(`FAIL  ${what}: ${String(e.message ?? e).split("\n").join("\n      ")}`);
  }
};

let dummy;
await check("wit/actr-workload.wit parses (world actr-workload-guest)", async () => {
  dummy = await componentEmbed({ witSource: workload, world: "actr-workload-guest", dummy: true });
});
await check("wit/troupe-host.wit parses (world troupe-host-imports)", async () => {
  await componentEmbed({ witSource: host, world: "troupe-host-imports", dummy: true });
});
await check("all-imports guest (SDK, wit-bindgen names) is a valid actr-workload-guest", async () => {
  const core = await readFile(`${guestDir}/all-imports.wasm`);
  const embedded = await componentEmbed({ binary: core, witSource: workload, world: "actr-workload-guest" });
  const adapter = await readFile(preview1AdapterReactorPath());
  const component = await componentNew(embedded, [["wasi_snapshot_preview1", adapter]]);
  const wit = await componentWit(component);
  if (!wit.includes("export actr:workload/workload@0.1.0;")) throw new Error(`unexpected world:\n${wit}`);
  return `component of ${component.length} bytes`;
});
await check("tests/wasm/fixtures/wasm-tools-dummy.wasm is what wasm-tools generates", async () => {
  const path = `${root}/tests/wasm/fixtures/wasm-tools-dummy.wasm`;
  if (update) {
    await writeFile(path, dummy);
    return "rewritten";
  }
  const have = await readFile(path);
  if (Buffer.compare(have, Buffer.from(dummy)) !== 0) {
    throw new Error("differs (a newer wasm-tools, or the WIT changed): rerun with --update");
  }
});
process.exit(failed ? 1 : 0);
