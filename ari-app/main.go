// Command ari-app is the one binary of the PBX Pi: it checks and renders the
// site's Asterisk configuration, and serves the call-routing application.
//
//	ari-app check  --site FILE             validate a site file
//	ari-app render --site FILE --out DIR [--mantela PATH]
//	                                       write Asterisk's configuration and
//	                                       the exchange's mantela.json
//	ari-app route  --site FILE --from ENDPOINT NUMBER...
//	                                       show where numbers go
//	ari-app serve  --site FILE [--state-dir DIR]
//	                                       run the ARI application, its HTTP
//	                                       API, the FastAGI route handler and
//	                                       the Mantela fetcher
//
// Secrets come from KURODENWA_… environment variables or *_file keys; see
// asterisk-conf/examples/site.yaml.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kurodenwa/kurodenwa/ari-app/asterisk"
	"github.com/kurodenwa/kurodenwa/ari-app/call"
	"github.com/kurodenwa/kurodenwa/ari-app/fastagi"
	"github.com/kurodenwa/kurodenwa/ari-app/httpapi"
	"github.com/kurodenwa/kurodenwa/ari-app/stasis"
	"github.com/kurodenwa/kurodenwa/asterisk-conf"
	"github.com/kurodenwa/kurodenwa/internal/directory"
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
  ari-app render --site FILE --out DIR [--mantela PATH]
                                         write Asterisk's configuration into DIR and the
                                         exchange's Mantela document to PATH (default DIR/mantela.json)
  ari-app route  --site FILE [--from ENDPOINT] NUMBER...
                                         show where numbers dialled from ENDPOINT go
  ari-app serve  --site FILE [--state-dir DIR] [--mantela-start URL,...] [--mantela-refresh 1h]
                 [--cost-model pulse10|pulse20|push|hops] [--max-hops 8]
                                         run the ARI application, HTTP API, FastAGI and the
                                         Mantela fetcher (default)
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
	mantelaOut := fs.String("mantela", "", "where render writes mantela.json (default: DIR/mantela.json)")
	var network networkFlags
	network.register(fs)
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
		path := cmp.Or(*mantelaOut, filepath.Join(*out, "mantela.json"))
		if err := writeMantela(s, path); err != nil {
			fmt.Fprintf(stderr, "ari-app render: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
		return 0
	case "route":
		return showRoutes(s, *from, fs.Args(), stdout, stderr)
	}
	return serve(ctx, s, network, log)
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

// serve runs the ARI application, its HTTP API and the FastAGI route
// handler until ctx ends, then drains: live calls may finish (bounded by
// ari.drain_timeout) while new ones take the dialplan's fallback.
func serve(ctx context.Context, s *site.Site, network networkFlags, log *slog.Logger) int {
	dir, err := directory.New(s, network.config(log))
	if err != nil {
		log.Error("cannot build the Mantela directory", "err", err)
		return 1
	}
	router, err := route.New(s, route.WithDirectory(dir), route.WithMaxHops(network.maxHops))
	if err != nil {
		log.Error("cannot build the router", "err", err)
		return 1
	}
	mantelaDoc, err := httpapi.MantelaDocument(dir.Document())
	if err != nil {
		log.Error("cannot publish mantela.json", "err", err)
		return 1
	}
	cfg := call.ConfigFromSite(s)
	// Channels outlive a restart of the application: IDs must not repeat.
	cfg.IDPrefix = "kd" + strconv.FormatInt(time.Now().UnixMilli(), 36)
	engine, err := call.New(cfg, router)
	if err != nil {
		log.Error("cannot build the call engine", "err", err)
		return 1
	}
	ariURL := ariBaseURL(s)
	rest, err := asterisk.NewREST(asterisk.RESTConfig{URL: ariURL, App: s.ARI.App, User: s.ARI.User, Password: s.ARI.Password})
	if err != nil {
		log.Error("ARI", "err", err)
		return 1
	}
	stream, err := asterisk.NewStream(asterisk.StreamConfig{URL: ariURL, App: s.ARI.App, User: s.ARI.User, Password: s.ARI.Password}, log)
	if err != nil {
		log.Error("ARI", "err", err)
		return 1
	}
	var version, transfers atomic.Value
	version.Store("")
	transfers.Store("asterisk")
	var metrics *httpapi.Metrics
	var app *stasis.App
	source := func(ctx context.Context) (httpapi.Snapshot, error) {
		v, err := app.Query(ctx)
		return httpapi.Snapshot(v), err
	}
	metrics = httpapi.NewMetrics(source, stream)
	app = stasis.New(engine, rest, log, metrics)
	api := httpapi.New(source, httpapi.Health{
		Connected: stream.Connected, Version: func() string { return version.Load().(string) },
		Transfers: func() string { return transfers.Load().(string) }, Started: time.Now(),
	}, metrics)
	api.Handle("GET "+httpapi.MantelaPath, mantelaDoc)
	api.Handle("GET /mantela/status", httpapi.MantelaStatus(dir))
	api.Handle("GET /routes", httpapi.Routes(dir))

	// The loop outlives ctx so that draining can still handle events.
	loopCtx, stopLoop := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLoop()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	run := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	run("call loop", func() error { return app.Run(loopCtx) })
	probe := versionProbe{App: app, rest: rest, version: &version, transfers: &transfers, log: log, mode: s.Calls.TransferHandling}
	run("ARI events", func() error { return stream.Run(loopCtx, probe) })
	run("FastAGI", func() error { return fastagi.NewServer(router, log).ListenAndServe(loopCtx, s.ARI.FastAGI) })
	// A fetch problem is logged and shown in /mantela/status; it never
	// stops routing, which keeps the last good view.
	run("Mantela", func() error { return dir.Run(loopCtx) })
	httpSrv := &http.Server{Addr: s.ARI.API, Handler: api, ReadHeaderTimeout: 5 * time.Second}
	run("HTTP API", httpSrv.ListenAndServe)
	log.Info("kurodenwa ari-app serving", "ari", ariURL, "app", s.ARI.App, "api", s.ARI.API, "fastagi", s.ARI.FastAGI)

	status := 0
	select {
	case <-ctx.Done():
		log.Info("shutting down: draining live calls", "limit", s.ARI.DrainTimeout)
	case err := <-errs:
		log.Error("stopping", "err", err)
		status = 1
	}
	dctx, cancel := context.WithTimeout(context.Background(), s.ARI.DrainTimeout)
	if err := app.Drain(dctx); err != nil {
		log.Warn("drain ended with calls still up", "err", err)
	}
	cancel()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = httpSrv.Shutdown(sctx)
	cancel()
	stopLoop()
	wg.Wait()
	return status
}

// versionProbe passes the stream's callbacks to the application and
// learns Asterisk's version on each connection, for /health and to decide
// who carries out softphones' transfers: the application where Asterisk
// can hand REFERs over (asterisk.AppTransfers) and the site allows it
// (calls.transfer_handling application; auto also wants the Refer-Sub fix,
// asterisk.ReferSubFixed), else Asterisk itself. An Asterisk
// upgraded or downgraded under a running application is decided anew on
// the reconnect.
type versionProbe struct {
	*stasis.App
	rest      *asterisk.REST
	version   *atomic.Value
	transfers *atomic.Value // "application" or "asterisk", for /health
	log       *slog.Logger
	mode      string // site.Calls.TransferHandling
}

func (p versionProbe) Connected(ctx context.Context, reconnect bool) {
	v, err := p.rest.Version(ctx)
	if err != nil {
		p.log.Warn("cannot learn Asterisk's version; Asterisk carries out transfers", "err", err)
	}
	p.version.Store(v) // "" when unknown: /health must not show an old one
	app := appTransfers(p.mode, v)
	who := "asterisk"
	if app {
		who = "application"
	} else if p.mode == site.TransferAuto && asterisk.AppTransfers(v) {
		p.log.Info("Asterisk could hand REFERs to the application, but this version segfaults on a REFER with "+
			"Refer-Sub: false in that mode (asterisk#2021, fixed in 22.11, 20.21, 23.5); Asterisk carries out transfers. "+
			"calls.transfer_handling: application uses the application anyway", "version", v)
	}
	p.transfers.Store(who)
	p.log.Info("connected to Asterisk", "version", v, "transfers", who)
	p.App.SetAppTransfers(ctx, app)
	p.App.Connected(ctx, reconnect)
}

// appTransfers decides whether the application carries out REFERs.
func appTransfers(mode, version string) bool {
	switch mode {
	case site.TransferApplication:
		return asterisk.AppTransfers(version)
	case site.TransferAuto:
		return asterisk.AppTransfers(version) && asterisk.ReferSubFixed(version)
	}
	return false
}

// ariBaseURL is where the application reaches ARI: plain HTTP on loopback
// when http.conf serves TLS elsewhere (see asterisk-conf), else ari.bind.
func ariBaseURL(s *site.Site) string {
	host, port, _ := net.SplitHostPort(s.ARI.Bind) // validated
	if ip, err := netip.ParseAddr(host); s.ARI.CertFile != "" || err != nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/ari"
}
