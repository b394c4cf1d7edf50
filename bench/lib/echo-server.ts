/**
 * A loopback TCP "ack" server, run as its own Bun process so the ping-pong floor crosses a process
 * boundary the way a Produce to the broker does:
 *
 *   bun bench/lib/echo-server.ts <requestBytes> <replyBytes>
 *
 * Prints "echo listening on PORT", then for every <requestBytes> received on a connection writes
 * <replyBytes> back (TCP_NODELAY on). Exits when stdin closes.
 */
const requestBytes = Number(process.argv[2] ?? 1024);
const replyBytes = Number(process.argv[3] ?? 16);
const reply = new Uint8Array(replyBytes);

const server = Bun.listen<{ pending: number }>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      s.data = { pending: 0 };
      s.setNoDelay(true);
    },
    data(s, chunk) {
      s.data.pending += chunk.length;
      while (s.data.pending >= requestBytes) {
        s.data.pending -= requestBytes;
        s.write(reply);
      }
    },
  },
});
console.log(`echo listening on ${server.port}`);

// Die with the parent.
(async () => {
  for await (const _ of Bun.stdin.stream()) {
    // drain
  }
  server.stop(true);
  process.exit(0);
})();
