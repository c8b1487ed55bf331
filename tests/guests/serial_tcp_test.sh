#!/usr/bin/env bash
# serial_tcp_test.sh PC64 GUESTS_DIR BUDGET
#
# Issue 6, serial input: the test guest boots directly with pc64.shell=1, so
# its /init ends in a busybox shell on the serial console; COM1 is
# `--serial tcp:PORT` and pc64 waits for the client before starting. A Python
# client connects, waits for the shell, sends a command (host -> TCP ->
# SerialInputPump -> 16550 receive FIFO -> Linux 8250 driver -> the shell),
# expects its output back over the socket, then sends `poweroff -f`; pc64
# must exit 0.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pc64=$1 guests=$2 budget=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$SECONDS
timeout "${PC64_GUEST_TIMEOUT:-900}" "$pc64" --headless --serial "tcp:$port" --max-instructions "$budget" \
  --kernel "$guests/linux-direct/vmlinuz" --initrd "$guests/linux-direct/initrd.cpio.gz" \
  --append "console=ttyS0,115200 panic=-1 rdinit=/init pc64.shell=1" >/dev/null 2>"$tmp/err" &
pid=$!
python3 - "$port" "$tmp/serial.log" <<'PY'
import socket, sys, time
port, logpath = int(sys.argv[1]), sys.argv[2]
for _ in range(300):  # pc64 is starting up and will wait for us
    try:
        s = socket.create_connection(('127.0.0.1', port)); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit('FAIL could not connect to pc64 on 127.0.0.1:%d' % port)
s.settimeout(1)
got = b''
log = open(logpath, 'wb')
def until(text, seconds):
    global got
    end = time.time() + seconds
    while text not in got and time.time() < end:
        try:
            b = s.recv(65536)
        except socket.timeout:
            continue
        if not b:
            break
        got += b; log.write(b); log.flush()
    return text in got
if not until(b'PC64-GUEST-SHELL', 900):
    sys.exit('FAIL the guest shell never appeared on the TCP serial line')
print('ok   guest shell on the TCP serial line')
time.sleep(0.5)
s.sendall(b'echo PC64-TCP-$((6*7))\r')
if not until(b'PC64-TCP-42', 300):
    sys.exit('FAIL no answer to the command sent over TCP')
print('ok   command sent over TCP ran in the guest shell and answered')
s.sendall(b'poweroff -f\r')
until(b'reboot: Power down', 300)
PY
py=$?
wait $pid
rc=$?
fails=0
[ "$py" -eq 0 ] || fails=$((fails + 1))
if [ "$rc" -ne 0 ]; then echo "FAIL pc64 exit $rc (wanted 0, guest power-off): $(tail -n 1 "$tmp/err")"; fails=$((fails + 1)); fi
[ "$fails" -eq 0 ] || { echo "--- last serial lines:"; tail -n 15 "$tmp/serial.log"; }
echo "serial-tcp: $((SECONDS - start))s, $fails failed: $(tail -n 1 "$tmp/err")"
[ "$fails" -eq 0 ]
