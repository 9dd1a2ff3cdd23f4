package main

import (
	"os"
	"strings"
	"testing"
)

// The README shows this example verbatim; keep them identical.
func TestREADMEShowsThisExample(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+string(src)+"```\n") {
		t.Error("README.md does not show examples/greeter/main.go verbatim; copy the file into its go block")
	}
}
