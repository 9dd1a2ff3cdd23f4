package bridge

import (
	"bufio"
	"context"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// cpuUsage measures the host's CPU use in percent over a short window, as
// JS's heartbeat does (two samples 100 ms apart), rounded to an integer.
// Where /proc/stat is missing it reports this process's share instead.
func cpuUsage(ctx context.Context) float64 {
	idle1, total1, ok := readProcStat()
	if !ok {
		return processCPU(ctx)
	}
	select {
	case <-time.After(100 * time.Millisecond):
	case <-ctx.Done():
		return 0
	}
	idle2, total2, ok := readProcStat()
	if !ok || total2 <= total1 {
		return 0
	}
	used := 1 - float64(idle2-idle1)/float64(total2-total1)
	return math.Round(math.Max(0, math.Min(1, used)) * 100)
}

func readProcStat() (idle, total uint64, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, false
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, s := range fields[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i == 3 || i == 4 { // idle and iowait
			idle += v
		}
	}
	return idle, total, true
}

// processCPU is the fallback: this process's CPU time over 100 ms, as a
// share of all cores.
func processCPU(ctx context.Context) float64 {
	start, t0 := processTime(), time.Now()
	select {
	case <-time.After(100 * time.Millisecond):
	case <-ctx.Done():
		return 0
	}
	used := float64(processTime()-start) / float64(time.Since(t0)) / float64(runtime.NumCPU())
	return math.Round(math.Max(0, math.Min(1, used)) * 100)
}
