// mongo-orm-ferretdb runs FerretDB v1.24.2 in-process: the MongoDB-compatible server that
// mongo_orm's tests and its embedded default database use.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/build/version"
	"github.com/FerretDB/FerretDB/ferretdb"
)

const ferretdbModule = "github.com/FerretDB/FerretDB"

// recordFerretDBVersion fills in the version that buildInfo reports as ferretdbVersion. FerretDB
// reads it from a file generated at release time that is not part of the Go module, so an
// embedding program takes it from the module version it was built with.
func recordFerretDBVersion() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	for _, dep := range info.Deps {
		if dep.Path == ferretdbModule {
			version.Get().Version = dep.Version
			return
		}
	}
}

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:0", "TCP address to listen on; port 0 picks a free port")
	dataDir := flag.String("data-dir", "", "directory for the SQLite files (created if missing); required for -handler=sqlite")
	handler := flag.String("handler", "sqlite", "storage backend: sqlite or postgresql")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL for -handler=postgresql")
	logFile := flag.String("log-file", "", "write the server log here instead of standard error")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	portFile := flag.String("port-file", "", "once listening, write the chosen port to this file")
	flag.Parse()

	if err := run(*listen, *dataDir, *handler, *postgresURL, *logFile, *logLevel, *portFile); err != nil {
		fmt.Fprintln(os.Stderr, "mongo-orm-ferretdb:", err)
		os.Exit(1)
	}
}

func run(listen, dataDir, handler, postgresURL, logFile, logLevel, portFile string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("invalid -log-level %q: %w", logLevel, err)
	}

	logOut := os.Stderr
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("cannot open log file: %w", err)
		}
		defer f.Close()
		logOut = f
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))

	config := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: listen},
		Logger:   logger,
		Handler:  handler,
	}
	switch handler {
	case "sqlite":
		if dataDir == "" {
			return fmt.Errorf("-data-dir is required for the sqlite handler")
		}
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return fmt.Errorf("invalid -data-dir: %w", err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return fmt.Errorf("cannot create data directory: %w", err)
		}
		config.SQLiteURL = "file:" + abs + "/"
	case "postgresql":
		if postgresURL == "" {
			return fmt.Errorf("-postgresql-url is required for the postgresql handler")
		}
		config.PostgreSQLURL = postgresURL
	default:
		return fmt.Errorf("unknown -handler %q (expected sqlite or postgresql)", handler)
	}

	recordFerretDBVersion()
	server, err := ferretdb.New(config)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- server.Run(ctx) }()

	// MongoDBURI blocks until the listener is bound, so the port it reports is the real one.
	uri, err := url.Parse(server.MongoDBURI())
	if err != nil {
		return fmt.Errorf("unexpected server URI: %w", err)
	}
	port := uri.Port()
	if portFile != "" {
		tmp := portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(port+"\n"), 0o644); err != nil {
			return fmt.Errorf("cannot write port file: %w", err)
		}
		if err := os.Rename(tmp, portFile); err != nil {
			return fmt.Errorf("cannot write port file: %w", err)
		}
	}
	fmt.Printf("mongo-orm-ferretdb listening on %s (handler %s)\n", strings.TrimSuffix(uri.Host, "/"), handler)

	return <-done
}
