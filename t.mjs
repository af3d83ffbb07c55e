import { train } from "./dist/src/train/trainer.js";
import { defaultConfig } from "./dist/src/train/config.js";
import { liveTensors } from "./dist/src/train/trainer.js";
const cfg = defaultConfig("smoke", process.argv[2] ?? "sm");
const t0 = performance.now();
let counts = [];
const r = await train({ config: cfg, data: "work/prepared-smoke/stream", runDir: "/tmp/run1", events: {
  onStep: (e) => { counts.push(liveTensors()); },
  onSiteEnd: (e) => console.log("site end", e.site, e.it, e.memory.length),
}});
console.log("done", r.state.it, (performance.now()-t0)/1000, "s; tensors first/last", counts[5], counts[counts.length-1]);
console.log(JSON.stringify(r.memory?.snapshot().slice(0,4)));
