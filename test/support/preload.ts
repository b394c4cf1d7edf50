// Loaded before every test file (bunfig.toml [test] preload).
import { afterAll } from "bun:test";
import { removeTrackedTempDirs } from "./temp-dirs.ts";

afterAll(removeTrackedTempDirs);
