// Command ari-app is the one binary of the PBX Pi: it checks and renders the
// site's Asterisk configuration, and serves the call-routing application.
//
//	ari-app check  --site FILE             validate a site file
//	ari-app render --site FILE --out DIR   write Asterisk's configuration
//	ari-app route  --site FILE --from ENDPOINT NUMBER...
//	                                       show where numbers go
//	ari-app serve  --site FILE             run the FastAGI route handler
//
// Secrets come from KURODENWA_… environment variables or *_file keys; see
// asterisk-conf/examples/site.yaml.
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
	"slices"
	"syscall"

	"github.com/kurodenwa/kurodenwa/ari-app/fastagi"
	"github.com/kurodenwa/kurodenwa/asterisk-conf"
	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  ari-app check  --site FILE             validate a site file
  ari-app render --site FILE --out DIR   write Asterisk's configuration into DIR
  ari-app route  --site FILE [--from ENDPOINT] NUMBER...
                                         show where numbers dialled from ENDPOINT go
  ari-app serve  --site FILE             run the FastAGI route handler (default command)
`

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("ari-app "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sitePath := fs.String("site", "/etc/kurodenwa/site.yaml", "site file")
	out := fs.String("out", "", "output directory (render)")
	from := fs.String("from", "", "calling PJSIP endpoint (route; default: the first black phone)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "ari-app: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	switch cmd {
	case "check", "render", "route", "serve":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ari-app: unknown command %q\n%s", cmd, usage)
		return 2
	}
	s, err := site.Load(*sitePath, site.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "ari-app %s: %v\n", cmd, err)
		return 1
	}
	switch cmd {
	case "check":
		fmt.Fprintf(stdout, "%s: valid site %q: %d extension(s), %d ring group(s), %d peer(s), Twilio %s\n",
			*sitePath, s.Exchange.Name, len(s.Extensions), len(s.RingGroups), len(s.Peers), onOff(s.Twilio.Enabled))
		return 0
	case "render":
		if *out == "" {
			fmt.Fprintln(stderr, "ari-app render: --out DIR is required")
			return 2
		}
		files, err := asteriskconf.Render(s)
		if err != nil {
			fmt.Fprintf(stderr, "ari-app render: %v\n", err)
			return 1
		}
		if err := files.WriteDir(*out); err != nil {
			fmt.Fprintf(stderr, "ari-app render: %v\n", err)
			return 1
		}
		for _, f := range files {
			fmt.Fprintf(stdout, "wrote %s/%s\n", *out, f.Name)
		}
		return 0
	case "route":
		return showRoutes(s, *from, fs.Args(), stdout, stderr)
	}
	return serve(ctx, s, log)
}

// showRoutes prints the router's decision for each number.
func showRoutes(s *site.Site, from string, numbers []string, stdout, stderr io.Writer) int {
	if len(numbers) == 0 {
		fmt.Fprintln(stderr, "ari-app route: name at least one number")
		return 2
	}
	if from == "" {
		for _, name := range sortedNames(s) {
			if e := s.Extensions[name]; e.Kind == site.KindBlackPhone {
				from = e.Endpoint()
				break
			}
		}
	}
	router, err := route.New(s)
	if err != nil {
		fmt.Fprintf(stderr, "ari-app route: %v\n", err)
		return 1
	}
	for _, n := range numbers {
		d := router.Route(route.Request{Endpoint: from, Dialled: n})
		switch d.Kind {
		case route.Reject:
			fmt.Fprintf(stdout, "%-16s from %-14s refused: cause %d, %s tone (%s)\n", n, from, d.Cause, d.Tone, d.Reason)
		default:
			fmt.Fprintf(stdout, "%-16s from %-14s %-6s Dial(%s) (%s)\n", n, from, d.Kind, d.DialString(), d.Reason)
		}
	}
	return 0
}

func sortedNames(s *site.Site) []string {
	names := make([]string, 0, len(s.Extensions))
	for n := range s.Extensions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

// serve runs the FastAGI route handler until ctx ends.
func serve(ctx context.Context, s *site.Site, log *slog.Logger) int {
	router, err := route.New(s)
	if err != nil {
		log.Error("cannot build the router", "err", err)
		return 1
	}
	srv := fastagi.NewServer(router, log)
	log.Info("FastAGI route handler listening", "addr", s.ARI.FastAGI)
	if err := srv.ListenAndServe(ctx, s.ARI.FastAGI); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("FastAGI server stopped", "err", err)
		return 1
	}
	return 0
}
