package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

const conformanceUsage = `Usage: molbridge conformance [--transporters LIST] [--serializers LIST] [flags]

Runs the live interop suite (conformance/live: Go nodes against real Node.js
moleculer 0.14.36 nodes) over every chosen transporter × serializer, and
prints a table and writes a markdown report.

It makes sure the message brokers (scripts/brokers.sh) and the Node.js
side (scripts/deps.sh) are there, builds the suite's test binary once and
runs it per cell with MOLBRIDGE_TRANSPORTER, MOLBRIDGE_TRANSPORTER_OPTIONS and
MOLBRIDGE_SERIALIZER set; every test makes namespaces of its own, so cells
never see each other's nodes. A cell whose transporter or serializer
molbridge does not have (yet) is reported as "missing" and fails.

By default the cells leave out the tests of the broker's own logic (fault
tolerance, balancing strategies, services added and removed at runtime),
which do not depend on the transporter or the serializer and run over NATS
with JSON in go test ./conformance/live; --skip "" runs them too.

Run it in the repository (or below it). The exit code is 0 when every cell
passed.

Transporters: NATS, Redis, MQTT, AMQP, AMQP10, TCP, Kafka, STAN
Serializers:  JSON, Avro, MsgPack, Notepack, ProtoBuf, Thrift, CBOR

Flags:
`

type conformanceTransporter struct {
	Name, URL, Broker string
	Options           map[string]any
}

// conformanceTransporters are JS's transporters, with the connection string
// and options each cell uses and the broker scripts/brokers.sh starts.
var conformanceTransporters = []conformanceTransporter{
	{Name: "NATS", URL: "nats://127.0.0.1:4222", Broker: "nats"},
	{Name: "Redis", URL: "redis://127.0.0.1:6379", Broker: "redis"},
	{Name: "MQTT", URL: "mqtt://127.0.0.1:1883", Broker: "mqtt"},
	// prefetch: the suite makes re-entrant calls (JS node A calls Go, which
	// calls A again); with JS's default prefetch of 1 such a call waits for
	// A's unacknowledged first request and times out, between JS nodes too.
	{Name: "AMQP", URL: "amqp://guest:guest@127.0.0.1:5672", Broker: "amqp", Options: map[string]any{"prefetch": 32}},
	// RabbitMQ rejects AMQP 1.0 addresses with moleculer's default
	// "topic://" prefix; "/topic/<key>" goes to the amq.topic exchange.
	{Name: "AMQP10", URL: "amqp10://guest:guest@127.0.0.1:5672", Broker: "amqp", Options: map[string]any{"topicPrefix": "/topic/", "prefetch": 32}},
	// No broker; the nodes find each other by UDP discovery, kept on
	// loopback: no multicast (its datagrams go out of an interface), but
	// broadcast to 127.255.255.255 only, on a UDP port of its own, every
	// second (JS's 30 s default would leave a restarted node unseen). The
	// TCP servers listen on 127.0.0.1: listenHost for Go (JS ignores it),
	// LISTEN_HOST for JS (conformance/live, jsEnv).
	{Name: "TCP", URL: "TCP", Options: map[string]any{
		"udpMulticast": false, "udpBroadcast": "127.255.255.255", "udpPort": 45445,
		"udpPeriod": 1, "listenHost": "127.0.0.1"}},
	{Name: "Kafka", URL: "kafka://127.0.0.1:9092", Broker: "kafka"},
	{Name: "STAN", URL: "stan://127.0.0.1:4223", Broker: "stan"},
}

var conformanceSerializers = []string{"JSON", "Avro", "MsgPack", "Notepack", "ProtoBuf", "Thrift", "CBOR"}

// Cell results.
const (
	cellPass    = "pass"
	cellFail    = "FAIL"
	cellMissing = "missing"
	cellError   = "ERROR" // the cell could not run (broker down, crash, timeout)
)

// These must match conformance/live (config_test.go).
const (
	liveMissingExit   = 3
	liveMissingPrefix = "MOLBRIDGE-LIVE-MISSING:"
	liveNotApplicable = "NOT APPLICABLE on "
)

type conformanceCell struct {
	Transporter string
	Serializer  string
	URL         string
	Options     map[string]any
	Broker      string

	Result   string
	Duration time.Duration
	Failed   []string // failing top-level tests
	Passed   int
	NotAppl  []string // "TestX: what: because"
	Detail   string   // why a cell is missing or in error
	Log      string   // path of the full output
}

func (c *conformanceCell) name() string { return c.Transporter + " × " + c.Serializer }

type conformanceConfig struct {
	transporters, serializers []string
	cells                     [][2]string // explicit cells instead of the product
	report, logDir, run, skip string
	parallel                  int
	cellTimeout               time.Duration
	setup, allowMissing       bool
}

// brokerLogicTests are the live tests of the broker's own logic (fault
// tolerance, strategies, runtime services), left out of the matrix cells by
// default: the transporter and the serializer play no part in what they
// check, and `go test ./conformance/live` runs them over NATS with JSON.
const brokerLogicTests = `^Test(Retry|CircuitBreaker|Bulkhead|Fallbacks|ShardSameNodes|CpuUsage|LatencyPrefers|ServiceHotAddRemove|ServiceDependencies|ServiceMixins)`

func runConformance(args []string, s stdio) int {
	var (
		cfg     conformanceConfig
		tList   string
		sList   string
		noSetup bool
		cList   string
	)
	fs := flag.NewFlagSet("molbridge conformance", flag.ContinueOnError)
	fs.SetOutput(s.stderr)
	fs.StringVar(&tList, "transporters", "all", "comma-separated transporter `names`, or all")
	fs.StringVar(&sList, "serializers", "all", "comma-separated serializer `names`, or all")
	fs.StringVar(&cList, "cells", "", "comma-separated `cells` TRANSPORTER:SERIALIZER to run instead of the product of the two lists")
	fs.BoolVar(&cfg.allowMissing, "allow-missing", false, "exit 0 even when some cells are missing (they are still reported)")
	fs.StringVar(&cfg.report, "report", "conformance/REPORT.md", "markdown report `file` (relative to the repository root); empty for none")
	fs.StringVar(&cfg.logDir, "logs", "", "`directory` for each cell's full test output (default a new temporary directory)")
	fs.IntVar(&cfg.parallel, "parallel", 2, "cells run at once (1 or 2: each cell runs many Node.js processes)")
	fs.DurationVar(&cfg.cellTimeout, "cell-timeout", 12*time.Minute, "time limit of one cell")
	fs.StringVar(&cfg.run, "run", "", "only the live tests matching this `regexp` (go test -run)")
	fs.StringVar(&cfg.skip, "skip", brokerLogicTests, "leave out the live tests matching this `regexp` (go test -skip); \"\" runs them all")
	fs.BoolVar(&noSetup, "no-setup", false, "do not run scripts/brokers.sh and scripts/deps.sh")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), conformanceUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.stderr, "molbridge conformance: %s\n", fmt.Sprintf(format, a...))
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg.setup = !noSetup
	if cfg.parallel < 1 || cfg.parallel > 2 {
		return fail("--parallel must be 1 or 2 (this is a 2-core machine's suite)")
	}
	var tNames []string
	for _, t := range conformanceTransporters {
		tNames = append(tNames, t.Name)
	}
	var err error
	if cfg.transporters, err = pickNames("transporter", tList, tNames); err != nil {
		return fail("%v", err)
	}
	if cfg.serializers, err = pickNames("serializer", sList, conformanceSerializers); err != nil {
		return fail("%v", err)
	}
	if cList != "" {
		if tList != "all" || sList != "all" {
			return fail("--cells replaces --transporters and --serializers")
		}
		cfg.transporters, cfg.serializers = nil, nil
		for _, cell := range strings.Split(cList, ",") {
			tn, sn, ok := strings.Cut(strings.TrimSpace(cell), ":")
			if !ok {
				return fail("--cells: %q is not TRANSPORTER:SERIALIZER", cell)
			}
			ts, err := pickNames("transporter", tn, tNames)
			if err != nil || len(ts) != 1 {
				return fail("--cells: %q: unknown transporter", cell)
			}
			ss, err := pickNames("serializer", sn, conformanceSerializers)
			if err != nil || len(ss) != 1 {
				return fail("--cells: %q: unknown serializer", cell)
			}
			cfg.cells = append(cfg.cells, [2]string{ts[0], ss[0]})
			if !slices.Contains(cfg.transporters, ts[0]) {
				cfg.transporters = append(cfg.transporters, ts[0])
			}
			if !slices.Contains(cfg.serializers, ss[0]) {
				cfg.serializers = append(cfg.serializers, ss[0])
			}
		}
		cfg.transporters, _ = pickNames("transporter", strings.Join(cfg.transporters, ","), tNames)
		cfg.serializers, _ = pickNames("serializer", strings.Join(cfg.serializers, ","), conformanceSerializers)
	}
	for flag, re := range map[string]string{"--run": cfg.run, "--skip": cfg.skip} {
		if _, err := regexp.Compile(re); err != nil {
			return fail("%s: %v", flag, err)
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return fail("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cells, err := runConformanceCells(ctx, root, cfg, s.stdout)
	if err != nil {
		return fail("%v", err)
	}
	printConformanceTable(s.stdout, cells)
	if cfg.report != "" {
		path := cfg.report
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := os.WriteFile(path, []byte(conformanceReport(cells, cfg)), 0o644); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(s.stdout, "report: %s\n", path)
	}
	for _, c := range cells {
		if c.Result != cellPass && (c.Result != cellMissing || !cfg.allowMissing) {
			return 1
		}
	}
	return 0
}

// pickNames resolves a comma-separated list against the known names, case
// insensitively, keeping the known names' order.
func pickNames(what, list string, known []string) ([]string, error) {
	if strings.TrimSpace(list) == "" || strings.EqualFold(strings.TrimSpace(list), "all") {
		return slices.Clone(known), nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		i := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(k, n) })
		if i < 0 {
			return nil, fmt.Errorf("unknown %s %q (known: %s)", what, n, strings.Join(known, ", "))
		}
		want[known[i]] = true
	}
	var out []string
	for _, k := range known {
		if want[k] {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s chosen", what)
	}
	return out, nil
}

// moduleRoot finds molbridge's go.mod above the working directory.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/molbridge/molbridge\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("run it inside the molbridge repository (no molbridge go.mod above " + wd + ")")
		}
	}
}

// runConformanceCells sets up, builds and runs the cells.
func runConformanceCells(ctx context.Context, root string, cfg conformanceConfig, out io.Writer) ([]*conformanceCell, error) {
	var cells []*conformanceCell
	for _, tn := range cfg.transporters {
		i := slices.IndexFunc(conformanceTransporters, func(x conformanceTransporter) bool { return x.Name == tn })
		t := conformanceTransporters[i]
		for _, sn := range cfg.serializers {
			if cfg.cells != nil && !slices.Contains(cfg.cells, [2]string{t.Name, sn}) {
				continue
			}
			cells = append(cells, &conformanceCell{Transporter: t.Name, Serializer: sn, URL: t.URL, Options: t.Options, Broker: t.Broker})
		}
	}
	logDir := cfg.logDir
	if logDir == "" {
		d, err := os.MkdirTemp("", "molbridge-conformance-")
		if err != nil {
			return nil, err
		}
		logDir = d
	} else if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "conformance: %d cells (%d transporters × %d serializers), %d at a time; logs in %s\n",
		len(cells), len(cfg.transporters), len(cfg.serializers), cfg.parallel, logDir)

	// 1. Brokers and the Node.js side. A broker that does not come up
	// fails its cells, not the run.
	brokerErr := map[string]string{}
	if cfg.setup {
		var brokers []string
		for _, c := range cells {
			if c.Broker != "" && !slices.Contains(brokers, c.Broker) {
				brokers = append(brokers, c.Broker)
			}
		}
		for _, b := range brokers {
			start := time.Now()
			if o, err := runLogged(ctx, root, filepath.Join(logDir, "brokers-"+b+".log"), "bash", "scripts/brokers.sh", b); err != nil {
				brokerErr[b] = fmt.Sprintf("scripts/brokers.sh %s failed: %v: %s", b, err, lastLine(o))
				fmt.Fprintf(out, "setup: broker %s: FAILED (%s)\n", b, lastLine(o))
			} else {
				fmt.Fprintf(out, "setup: broker %s ready (%.1fs)\n", b, time.Since(start).Seconds())
			}
		}
		if o, err := runLogged(ctx, root, filepath.Join(logDir, "deps.log"), "bash", "scripts/deps.sh"); err != nil {
			return nil, fmt.Errorf("scripts/deps.sh failed: %v: %s", err, lastLine(o))
		}
	}

	// 2. The test binary, built once.
	bin := filepath.Join(logDir, "live.test")
	start := time.Now()
	if o, err := runLogged(ctx, root, filepath.Join(logDir, "build.log"), "go", "test", "-c", "-o", bin, "./conformance/live"); err != nil {
		return nil, fmt.Errorf("go test -c ./conformance/live failed: %v\n%s", err, o)
	}
	fmt.Fprintf(out, "built the live suite in %.1fs\n", time.Since(start).Seconds())

	// 3. The cells, cfg.parallel at a time.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		jobs = make(chan *conformanceCell)
	)
	for range cfg.parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				// Run it even when its broker did not come up: a cell
				// molbridge lacks is reported as missing either way.
				runCell(ctx, root, bin, logDir, cfg, c)
				if e, bad := brokerErr[c.Broker]; bad && c.Result != cellMissing && c.Result != cellPass {
					c.Detail = strings.TrimPrefix(c.Detail+"; "+e, "; ")
				}
				mu.Lock()
				fmt.Fprintf(out, "%-20s %-8s %6.1fs  %s\n", c.name(), c.Result, c.Duration.Seconds(), cellSummary(c))
				mu.Unlock()
			}
		}()
	}
	for _, c := range cells {
		if ctx.Err() != nil {
			c.Result, c.Detail = cellError, "interrupted"
			continue
		}
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	return cells, nil
}

// runLogged runs a command in dir, its output into logFile, and returns the
// output.
func runLogged(ctx context.Context, dir, logFile, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdin = nil
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	_ = os.WriteFile(logFile, b.Bytes(), 0o644)
	return b.String(), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

var (
	topLevelResult = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (Test\S*) \(([0-9.]+)s\)`)
	notApplLine    = regexp.MustCompile(`^\s+\S+\.go:\d+: ` + regexp.QuoteMeta(liveNotApplicable) + `[^:]+: (.*)$`)
	runLine        = regexp.MustCompile(`^=== (?:RUN|CONT|PAUSE)\s+(Test\S*)`)
)

// runCell runs the live suite over one cell and parses its -test.v output.
func runCell(ctx context.Context, root, bin, logDir string, cfg conformanceConfig, c *conformanceCell) {
	ctx, cancel := context.WithTimeout(ctx, cfg.cellTimeout+time.Minute)
	defer cancel()
	args := []string{"-test.v", "-test.count=1", "-test.timeout=" + cfg.cellTimeout.String()}
	if cfg.run != "" {
		args = append(args, "-test.run="+cfg.run)
	}
	if cfg.skip != "" {
		args = append(args, "-test.skip="+cfg.skip)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Join(root, "conformance", "live")
	env := os.Environ()
	env = append(env, "MOLBRIDGE_TRANSPORTER="+c.URL, "MOLBRIDGE_SERIALIZER="+c.Serializer)
	if c.Options != nil {
		b, _ := json.Marshal(c.Options)
		env = append(env, "MOLBRIDGE_TRANSPORTER_OPTIONS="+string(b))
	} else {
		env = append(env, "MOLBRIDGE_TRANSPORTER_OPTIONS=")
	}
	cmd.Env = env
	// Its own process group, killed afterwards: no node outlives a cell.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var outBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	start := time.Now()
	err := cmd.Run()
	c.Duration = time.Since(start)
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	output := outBuf.String()
	c.Log = filepath.Join(logDir, strings.ToLower(c.Transporter+"-"+c.Serializer)+".log")
	_ = os.WriteFile(c.Log, outBuf.Bytes(), 0o644)
	parseCellOutput(c, output)

	var exit *exec.ExitError
	switch {
	case err == nil && len(c.Failed) == 0 && c.Passed > 0:
		c.Result = cellPass
	case errors.As(err, &exit) && exit.ExitCode() == liveMissingExit && c.Detail != "":
		c.Result = cellMissing
	case len(c.Failed) > 0:
		c.Result = cellFail
	case ctx.Err() != nil:
		c.Result, c.Detail = cellError, "timed out or interrupted"
	default:
		c.Result = cellError
		if c.Detail == "" {
			c.Detail = fmt.Sprintf("the test binary ended with %v and no test result: %s", err, lastLine(output))
		}
	}
}

func parseCellOutput(c *conformanceCell, output string) {
	current := ""
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	seenNA := map[string]bool{}
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, liveMissingPrefix); ok {
			c.Detail = strings.TrimSpace(rest)
			continue
		}
		if m := runLine.FindStringSubmatch(line); m != nil {
			current, _, _ = strings.Cut(m[1], "/")
			continue
		}
		if m := topLevelResult.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case "PASS":
				c.Passed++
			case "FAIL":
				c.Failed = append(c.Failed, m[2])
			}
			continue
		}
		if strings.HasPrefix(line, "--- ") {
			// "--- FAIL: TestX" lines say which test the log lines
			// under them belong to.
			if f := strings.Fields(line); len(f) >= 3 {
				current = f[2]
			}
			continue
		}
		if m := notApplLine.FindStringSubmatch(line); m != nil {
			note := current + ": " + m[1]
			if !seenNA[note] {
				seenNA[note] = true
				c.NotAppl = append(c.NotAppl, note)
			}
		}
	}
}

func cellSummary(c *conformanceCell) string {
	var parts []string
	if len(c.Failed) > 0 {
		parts = append(parts, "failed: "+strings.Join(c.Failed, ", "))
	}
	if c.Detail != "" {
		parts = append(parts, c.Detail)
	}
	if c.Result == cellPass {
		parts = append(parts, fmt.Sprintf("%d tests", c.Passed))
		if n := len(c.NotAppl); n > 0 {
			parts = append(parts, fmt.Sprintf("%d parts not applicable", n))
		}
	}
	return strings.Join(parts, "; ")
}

func printConformanceTable(w io.Writer, cells []*conformanceCell) {
	fmt.Fprintf(w, "\n%-20s %-8s %8s  %s\n", "CELL", "RESULT", "TIME", "DETAILS")
	var total time.Duration
	counts := map[string]int{}
	for _, c := range cells {
		fmt.Fprintf(w, "%-20s %-8s %7.1fs  %s\n", c.name(), c.Result, c.Duration.Seconds(), cellSummary(c))
		total += c.Duration
		counts[c.Result]++
	}
	fmt.Fprintf(w, "\n%d cells: %d pass, %d fail, %d missing, %d error; %.0fs of cell time\n",
		len(cells), counts[cellPass], counts[cellFail], counts[cellMissing], counts[cellError], total.Seconds())
}

// conformanceReport renders the markdown report.
func conformanceReport(cells []*conformanceCell, cfg conformanceConfig) string {
	var b strings.Builder
	b.WriteString("# Live conformance report\n\n")
	b.WriteString("Written by `molbridge conformance`: the live interop suite (conformance/live: Go nodes and real Node.js moleculer 0.14.36 nodes in one cluster) run once per transporter × serializer cell. Regenerate the full matrix with\n\n")
	b.WriteString("    go run ./cmd/molbridge conformance\n\n")
	fmt.Fprintf(&b, "Run: %s, %s/%s, %d CPUs, %d cell(s) at a time", time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cfg.parallel)
	if v := commandOutput("node", "--version"); v != "" {
		fmt.Fprintf(&b, ", Node.js %s", v)
	}
	fmt.Fprintf(&b, ", %s", runtime.Version())
	if cfg.run != "" {
		fmt.Fprintf(&b, ", only tests matching `%s`", cfg.run)
	}
	if cfg.skip != "" {
		fmt.Fprintf(&b, ", without the tests matching `%s`", cfg.skip)
	}
	b.WriteString(".\n\n")
	if cfg.skip == brokerLogicTests {
		b.WriteString("The tests left out check the broker's own logic against JS nodes (fault tolerance, balancing strategies, services added and removed at runtime): what they check does not depend on the transporter or the serializer, and they run over NATS with JSON in `go test ./conformance/live` (`--skip \"\"` runs them in every cell).\n\n")
	}

	counts := map[string]int{}
	var total time.Duration
	for _, c := range cells {
		counts[c.Result]++
		total += c.Duration
	}
	if cfg.cells != nil {
		b.WriteString("Only chosen cells ran (–: not run).\n\n")
	}
	fmt.Fprintf(&b, "**%d cells: %d pass, %d fail, %d missing, %d could not run.** Cell time %.0f s in all.\n\n",
		len(cells), counts[cellPass], counts[cellFail], counts[cellMissing], counts[cellError], total.Seconds())

	// The grid.
	b.WriteString("| transporter |")
	for _, s := range cfg.serializers {
		fmt.Fprintf(&b, " %s |", s)
	}
	b.WriteString("\n|---|")
	for range cfg.serializers {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, t := range cfg.transporters {
		fmt.Fprintf(&b, "| %s |", t)
		for _, s := range cfg.serializers {
			i := slices.IndexFunc(cells, func(c *conformanceCell) bool { return c.Transporter == t && c.Serializer == s })
			if i < 0 {
				b.WriteString(" – |")
				continue
			}
			c := cells[i]
			mark := map[string]string{cellPass: "pass", cellFail: "**FAIL**", cellMissing: "missing", cellError: "**error**"}[c.Result]
			if c.Duration > time.Second {
				mark += fmt.Sprintf(" (%.0f s)", c.Duration.Seconds())
			}
			fmt.Fprintf(&b, " %s |", mark)
		}
		b.WriteString("\n")
	}
	b.WriteString("\npass: every live test passed (time: the cell's wall-clock time, with the parallelism above); **FAIL**: some failed (listed below); missing: molbridge has no such transporter or serializer yet; **error**: the cell could not run.\n\n")

	b.WriteString("## Cells impossible in JS itself\n\n")
	b.WriteString("None. Every one of the 56 transporter × serializer combinations works between two Node.js moleculer 0.14.36 nodes on this kind of machine (shared/infra.md), given the same settings as here: AMQP 1.0 on RabbitMQ needs the transporter option `topicPrefix: \"/topic/\"` on every node, NATS Streaming needs a server started with `-mc 0`, and Kafka runs against molbridge's in-memory test broker (cmd/kafkabroker), not a real Kafka. disableBalancer is only tested where JS honours it (NATS, AMQP, AMQP10, STAN).\n\n")

	b.WriteString("## Cell settings\n\n| transporter | connection string | options |\n|---|---|---|\n")
	for _, tn := range cfg.transporters {
		for _, t := range conformanceTransporters {
			if t.Name == tn {
				opts := ""
				if t.Options != nil {
					o, _ := json.Marshal(t.Options)
					opts = "`" + string(o) + "`"
				}
				fmt.Fprintf(&b, "| %s | `%s` | %s |\n", t.Name, t.URL, opts)
			}
		}
	}

	var missing, failing, notAppl []string
	for _, c := range cells {
		switch c.Result {
		case cellMissing:
			missing = append(missing, fmt.Sprintf("- %s: %s", c.name(), c.Detail))
		case cellFail:
			failing = append(failing, fmt.Sprintf("- %s (%.0f s): %s", c.name(), c.Duration.Seconds(), strings.Join(c.Failed, ", ")))
		case cellError:
			failing = append(failing, fmt.Sprintf("- %s: could not run: %s", c.name(), c.Detail))
		}
		for _, n := range c.NotAppl {
			notAppl = append(notAppl, fmt.Sprintf("- %s: %s", c.name(), n))
		}
	}
	b.WriteString("\n## Failures\n\n")
	if len(failing) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString(strings.Join(failing, "\n") + "\n")
	}
	b.WriteString("\n## Missing cells\n\n")
	if len(missing) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString(strings.Join(missing, "\n") + "\n")
	}
	b.WriteString("\n## Checks that do not apply on a cell\n\nWhat a test could not check on a cell, and why (the rest of the test still ran).\n\n")
	if len(notAppl) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString(strings.Join(notAppl, "\n") + "\n")
	}
	return b.String()
}

func commandOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
