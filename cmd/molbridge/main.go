// Command molbridge is molbridge's command-line tool.
//
//	molbridge <command> [flags]
//	molbridge help [command]
//
// Commands:
//
//	peer    run a Go node with the conformance catalog (gopeer services)
//	decode  print one packet's payload as JSON (molbridge decode --serializer S --type T [FILE])
//	encode  turn a payload in JSON into packet bytes (molbridge encode --serializer S --type T [FILE])
//	conformance  run the live interop suite over transporters × serializers (molbridge conformance --transporters T --serializers S)
//
// Run "molbridge <command> -h" for a command's flags.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand. run gets the arguments after the command's
// name and returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, io stdio) int
}

// stdio is what a command reads and writes, so that tests can run commands
// in-process.
type stdio struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// commands lists the subcommands, in the order usage shows them.
var commands = []command{
	{name: "peer", summary: "run a Go node with the conformance catalog (gopeer services)", run: runPeer},
	{name: "decode", summary: "print one packet's payload as JSON", run: runDecode},
	{name: "encode", summary: "turn a payload in JSON into packet bytes", run: runEncode},
	{name: "conformance", summary: "run the live interop suite over transporters × serializers", run: runConformance},
}

func main() {
	os.Exit(run(os.Args[1:], stdio{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

func run(args []string, s stdio) int {
	if len(args) == 0 {
		usage(s.stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(rest) > 0 {
			if c := lookup(rest[0]); c != nil {
				return c.run([]string{"-h"}, s)
			}
			fmt.Fprintf(s.stderr, "molbridge: unknown command %q\n\n", rest[0])
			usage(s.stderr)
			return 2
		}
		usage(s.stdout)
		return 0
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(s.stderr, "molbridge: unknown command %q\n\n", name)
		usage(s.stderr)
		return 2
	}
	return c.run(rest, s)
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("molbridge: Moleculer protocol 4 nodes in Go, interoperable with Node.js moleculer.\n\n")
	b.WriteString("Usage:\n\n\tmolbridge <command> [flags]\n\tmolbridge help <command>\n\nCommands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "\t%-13s%s\n", c.name, c.summary)
	}
	b.WriteString("\nRun \"molbridge <command> -h\" for a command's flags.\n")
	io.WriteString(w, b.String())
}
