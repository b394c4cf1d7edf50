// Placeholder until the native crate lands; replaced by the native build script.
console.log("native: nothing to build yet");
