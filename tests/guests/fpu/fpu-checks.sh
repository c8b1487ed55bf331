#!/bin/sh
# pc64 guest FPU/SIMD checks (issue 5), run by the test guest's /init and,
# natively, by scripts/build-guests.sh to record the expected output (the
# host is the oracle; tests/guests/fpu_compare.sh diffs the two).
#   fpu-checks.sh [BUSYBOX [FPU_TEST]]
bb=${1:-busybox}
fpu_test=${2:-fpu-test}
"$fpu_test"
echo "PC64-AWK-BEGIN"
# busybox awk does all arithmetic in doubles and prints through printf.
# (Debian's busybox is built without awk's math functions and ^, so square
# roots and series are computed here by hand.)
"$bb" awk 'BEGIN {
  printf "%.17g %.17g %.17g %.17g\n", 0.1 + 0.2, 1 / 3, -2 / 7, 1e308 * 10
  r = 1; for (k = 0; k < 8; k++) r = (r + 2 / r) / 2
  printf "sqrt2 %.17g\n", r
  e = 1; t = 1; for (k = 1; k < 25; k++) { t = t / k; e += t }
  printf "e %.17g\n", e
  printf "%d %d %d %d\n", int(-3.7), int(3.7), 7 % 3, -7.5 % 2
  printf "%.3e %g %g %g\n", 6.02214076e23, 1e300 * 1e10, -1e300 * 1e10, 1e-320
  printf "%s %s %s %s\n", "1e3" + 0, ".5e-2" + 1, 123456789 * 1000, 0.1 * 3
  s = 0; for (k = 1; k <= 2000; k++) s += 1 / (k * k)
  printf "basel %.17g\n", s
  x = 1; for (k = 0; k < 60; k++) x = x * 1.1 - 0.05
  printf "iter %.17g %.6f %.0f %.0f\n", x, x / 3, 2.5, 3.5
  srand(7); printf "rand %.17g %.17g\n", rand(), rand()
  split("3.25 -1e-5 7e7 0x10 1.5e+300", a, " ")
  for (k = 1; k <= 5; k++) printf "%s*%s=%.17g ", a[k], a[k], a[k] * a[k]
  printf "\n%d %i %x\n", 2147483647.9, -2147483648, 255.7
}'
echo "PC64-AWK-END"
