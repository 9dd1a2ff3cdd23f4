package bridge

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// readFloats reads the first n numbers of a /proc file; zeros when missing.
func readFloats(path string, n int) []float64 {
	out := make([]float64, n)
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for i, f := range strings.Fields(string(b)) {
		if i >= n {
			break
		}
		out[i], _ = strconv.ParseFloat(f, 64)
	}
	return out
}

// memInfo returns total and available memory in bytes, as Node's
// os.totalmem and os.freemem report them on Linux.
func memInfo() (total, free float64) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "MemTotal:":
			total = v * 1024
		case "MemAvailable:":
			free = v * 1024
		}
	}
	return total, free
}

func atoiOr(s string) any {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return s
}

// unameInfo returns the OS type and release as Node's os.type and
// os.release do.
func unameInfo() (string, string) {
	release, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	typ, _ := os.ReadFile("/proc/sys/kernel/ostype")
	t := strings.TrimSpace(string(typ))
	if t == "" {
		t = "Linux"
	}
	return t, strings.TrimSpace(string(release))
}
