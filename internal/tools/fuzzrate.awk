# fuzzrate.awk prints a fuzz target's rate from `go test -fuzz` output: the
# executions of its last progress line over the time elapsed, and a warning
# below 100 executions per second. Used by `make fuzz` (-v t=TARGET).
function seconds(d,   s, n, u) {
	s = 0
	while (match(d, /^[0-9.]+(h|ms|m|s)/)) {
		n = substr(d, 1, RLENGTH)
		d = substr(d, RLENGTH + 1)
		u = n; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", n)
		if (u == "h") s += n * 3600
		else if (u == "m") s += n * 60
		else if (u == "ms") s += n / 1000
		else s += n
	}
	return s
}
/^fuzz: elapsed: .*execs: [0-9]+/ {
	e = $0; sub(/^fuzz: elapsed: /, "", e); sub(/,.*/, "", e)
	x = $0; sub(/.*execs: /, "", x); sub(/ .*/, "", x)
	elapsed = seconds(e); execs = x
}
END {
	if (elapsed <= 0) { printf "fuzz: rate %s: no progress line\n", t; exit }
	rate = execs / elapsed
	printf "fuzz: rate %s: %d execs/s (%d in %ss)%s\n", t, rate, execs, elapsed, (rate < 100 ? " BELOW 100/s" : "")
}
