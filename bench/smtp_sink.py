#!/usr/bin/env python3
"""An SMTP sink for the benchmark: accepts every message on 127.0.0.1:PORT and appends
its Message-ID (one line per message received) to LOG. Usage: smtp_sink.py PORT LOG."""
import asyncio
import sys


async def session(reader, writer, log):
    try:
        await dialogue(reader, writer, log)
    except (ConnectionError, asyncio.IncompleteReadError):
        pass  # a client that went away (the benchmark's readiness probe does)


async def dialogue(reader, writer, log):
    writer.write(b"220 sink ESMTP\r\n")
    await writer.drain()
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = line.strip().upper()
        if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
            writer.write(b"250-sink\r\n250 8BITMIME\r\n")
        elif cmd == b"DATA":
            writer.write(b"354 go ahead\r\n")
            await writer.drain()
            message_id = b"-"
            while True:
                data = await reader.readline()
                if not data or data in (b".\r\n", b".\n"):
                    break
                if data.lower().startswith(b"message-id:"):
                    message_id = data.split(b":", 1)[1].strip()
            log.write(message_id.decode(errors="replace") + "\n")
            log.flush()
            writer.write(b"250 queued\r\n")
        elif cmd == b"QUIT":
            writer.write(b"221 bye\r\n")
            await writer.drain()
            break
        else:
            writer.write(b"250 OK\r\n")
        await writer.drain()
    writer.close()


async def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    log = open(path, "a", encoding="utf-8")
    server = await asyncio.start_server(lambda r, w: session(r, w, log), "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


asyncio.run(main())
