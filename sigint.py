import subprocess, signal, time, sys, os
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), env={**os.environ, "OMP_NUM_THREADS": "1"})
time.sleep(float(sys.argv[1])); p.send_signal(signal.SIGINT)
out, err = p.communicate(timeout=60)
print("rc", p.returncode); print("OUT", out.decode()[-500:]); print("ERR", err.decode()[-800:])
