// Command kafkabroker runs molbridge's in-memory, single-node Kafka test
// broker (package internal/kafkabroker): franz-go's kfake behind a front
// that translates the old protocol versions of kafka-node 5.0.0, the
// client moleculer 0.14's Kafka transporter uses, and passes modern
// clients through.
//
//	kafkabroker [-addr 127.0.0.1:9092] [-partitions 1] [-v]
//
// It is a development and test tool: all data lives in memory and is lost
// when it stops. scripts/brokers.sh kafka builds and starts it. It stops on
// SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/molbridge/molbridge/internal/kafkabroker"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9092", "listen address")
	partitions := flag.Int("partitions", 1, "partitions of auto-created topics")
	verbose := flag.Bool("v", false, "log at debug level")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	b, err := kafkabroker.Start(kafkabroker.Options{Addr: *addr, Logger: log, Partitions: *partitions})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log.Info("kafkabroker: listening (in-memory, single node)", "addr", b.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	b.Close()
}
