"""Runs a command on a pseudo-terminal, presses Ctrl-C at its first prompt ("?"), prints {code, out} as JSON."""
import os, pty, sys, time, select, json
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b''
deadline = time.time() + 20
sent = False
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not sent and b'?' in out:
            time.sleep(0.3)
            os.write(fd, b'\x03')
            sent = True
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
print(json.dumps({"code": code, "out": out.decode('utf8', 'replace')}))
