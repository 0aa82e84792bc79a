// Worker threads do not inherit the process's module hooks on Node 20: register tsx here,
// then load the TypeScript thread script.
import { register } from "tsx/esm/api";

register();
await import("./call-thread.ts");
