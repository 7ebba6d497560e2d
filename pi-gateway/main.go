// Command pi-gateway is the telephone Pi's daemon: the rotary phone on its
// line interface, as a SIP phone of the PBX (or of a Twilio SIP Domain).
//
//	pi-gateway --config /etc/kurodenwa/pi-gateway.yaml
//	pi-gateway --config FILE --line sim    # the black phone in this terminal
//	pi-gateway demo                        # a real call to baresip, checked step by step
//
// Every configuration key can be overridden by KURODENWA_<KEY>; the SIP
// password comes from KURODENWA_SIP_PASSWORD or sip.password_file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/config"
	"github.com/kurodenwa/kurodenwa/pi-gateway/daemon"
	"github.com/kurodenwa/kurodenwa/pi-gateway/demo"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/simphone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

func main() {
	// One phone, one call at a time: with a single P no second thread is
	// woken for each 20 ms media tick, which measured about a quarter less
	// CPU per call (docs/PERFORMANCE.md). GOMAXPROCS in the environment
	// still wins.
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("pi-gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "/etc/kurodenwa/pi-gateway.yaml", "configuration file (YAML); KURODENWA_<KEY> overrides any key")
	lineFlag := fs.String("line", "", "line backend, overriding line.backend: gpio, serial, or sim (the black phone in this terminal)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pi-gateway: unexpected arguments %q (subcommand: demo)\n", fs.Args())
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "pi-gateway: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))

	// --line is one more override, checked with the file like the
	// environment's.
	opts := config.Options{LookupEnv: func(k string) (string, bool) {
		if k == "KURODENWA_LINE_BACKEND" && *lineFlag != "" {
			return *lineFlag, true
		}
		return os.LookupEnv(k)
	}}
	cfg, err := config.Load(*cfgPath, opts)
	if err != nil {
		fmt.Fprintf(stderr, "pi-gateway: %v\n", err)
		return 1
	}
	if err := serve(ctx, cfg, stdin, stdout, log); err != nil {
		log.Error("pi-gateway stopped", "err", err)
		return 1
	}
	return 0
}

// serve opens the configured parts and runs the daemon until ctx ends (or,
// with the terminal phone, until q).
func serve(ctx context.Context, cfg *config.Config, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	clk := clock.Real{}
	zone, err := cfg.Zone()
	if err != nil {
		return err
	}
	pc, err := cfg.PhoneConfig()
	if err != nil {
		return err
	}
	ua, err := sipua.New(daemon.SIPConfig(cfg), log.With("part", "sip"))
	if err != nil {
		return err
	}
	dev, err := cfg.OpenAudio(clk, log.With("part", "audio"))
	if err != nil {
		return fmt.Errorf("audio: %w", err)
	}
	defer dev.Close()

	opts := daemon.Options{
		Audio: dev, UA: daemon.FromSIPUA(ua), Phone: pc, Zone: zone, Clock: clk, Log: log,
		StatusListen: cfg.HTTP.Listen, Registrar: cfg.SIP.Registrar,
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var l line.Line
	var terminal *simphone.Phone
	if cfg.Line.Backend == "sim" {
		// The terminal phone hooks into the sim line, so it is built
		// here rather than by config.OpenLine.
		pulses, err := cfg.PulseConfig()
		if err != nil {
			return err
		}
		terminal = simphone.New(stdout, clk)
		sl, err := sim.New(terminal.SimOptions(sim.Options{Pulse: pulses, Clock: clk}))
		if err != nil {
			return err
		}
		terminal.Attach(sl)
		opts.Tones, opts.Observe = terminal.Tones, terminal.Observe
		l = sl
	} else if l, err = cfg.OpenLine(ctx, clk, log.With("part", "line")); err != nil {
		return fmt.Errorf("line: %w", err)
	}
	defer l.Close()
	opts.Line = l
	if terminal != nil {
		go func() {
			if err := terminal.Run(ctx, stdin); err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("terminal phone", "err", err)
			}
			cancel() // q or end of input: the daemon stops too
		}()
	}
	log.Info("pi-gateway starting", "line", cfg.Line.Backend, "audio", cfg.Audio.Backend, "aor", cfg.AOR(), "sip", ua.Addr().String())
	return daemon.Run(ctx, opts)
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pi-gateway demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "log the gateway's debug messages to standard error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	lvl := slog.LevelError
	if *verbose {
		lvl = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if err := demo.Run(ctx, demo.Options{Out: stdout, Log: log}); err != nil {
		fmt.Fprintf(stdout, "DEMO FAILED: %v\n", err)
		return 1
	}
	return 0
}
