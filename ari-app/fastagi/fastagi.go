// Package fastagi serves the dialplan-only route handler: when the ARI
// application is not connected, the dialplan asks
//
//	AGI(agi://127.0.0.1:4573/route,${CHANNEL(endpoint)},${dialled}[,${hops},${max_forwards}])
//
// and dials what the answer names. On calls from peers the dialplan passes
// the X-Kurodenwa-Hops and Max-Forwards headers it received (route.ParseHops). The number analysis is package route's,
// the same as the ARI application's.
package fastagi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/agi"

	"github.com/kurodenwa/kurodenwa/internal/route"
)

// Channel variables set by the route handler; the dialplan reads them.
const (
	VarRoute    = "KD_ROUTE"    // local, peer, pstn or reject
	VarDial     = "KD_DIAL"     // Dial() target
	VarTimeout  = "KD_TIMEOUT"  // Dial() timeout in seconds
	VarCallerID = "KD_CALLERID" // E.164 caller ID for the PSTN
	VarTarget   = "KD_TARGET"   // extension, ring group or peer name
	VarCause    = "KD_CAUSE"    // Q.850 cause of a rejection
	VarTone     = "KD_TONE"     // tone of a rejection
	VarReason   = "KD_REASON"   // why, for the log
	// VarHops is the hop count to send on a peer leg (route.HopsHeader),
	// empty for other routes; the dialplan's pre-dial handler adds it.
	VarHops = "KD_HOPS"
	// VarPath is the path of exchanges to send on a peer leg
	// (route.PathHeader), empty for other routes.
	VarPath = "KD_PATH"
)

// Router is the number analysis the handler asks.
type Router interface {
	Route(route.Request) route.Decision
}

// Server is a FastAGI server with one script, "route".
type Server struct {
	router Router
	log    *slog.Logger
	// SessionTimeout bounds one AGI session; the agi library has no
	// deadlines of its own, so a stalled peer would otherwise hold a
	// goroutine forever.
	SessionTimeout time.Duration
	// MaxSessionBytes bounds what one session may send.
	MaxSessionBytes int64
}

// NewServer returns a server answering from router.
func NewServer(router Router, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{router: router, log: log, SessionTimeout: 10 * time.Second, MaxSessionBytes: 64 << 10}
}

// ListenAndServe listens on addr (TCP) and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("fastagi: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, l)
}

// Serve accepts sessions on l until ctx ends, then closes l and waits for
// the sessions under way (each bounded by SessionTimeout).
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("fastagi: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(conn)
		}()
	}
}

// session runs one AGI session on conn.
func (s *Server) session(conn net.Conn) {
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(s.SessionTimeout)); err != nil {
		s.log.Warn("fastagi: cannot set a deadline", "remote", conn.RemoteAddr(), "err", err)
		return
	}
	a := agi.New(io.LimitReader(conn, s.MaxSessionBytes), conn)
	req, err := parseRequest(a.Variables)
	log := s.log.With("call_id", a.Variables["agi_uniqueid"], "remote", conn.RemoteAddr().String())
	if err != nil {
		log.Warn("fastagi: bad request", "err", err)
		s.reply(log, a, route.Decision{Kind: route.Reject, Cause: route.CauseRejected, Tone: "congestion", Reason: err.Error()})
		return
	}
	d := s.router.Route(req)
	log.Info("route", "endpoint", req.Endpoint, "dialled", req.Dialled, "origin", d.Origin.Class.String(),
		"decision", d.Kind.String(), "target", d.Target, "reason", d.Reason)
	s.reply(log, a, d)
}

// parseRequest reads the script name and arguments of a session.
func parseRequest(vars map[string]string) (route.Request, error) {
	if len(vars) == 0 {
		return route.Request{}, fmt.Errorf("no AGI environment received")
	}
	script, _, _ := strings.Cut(vars["agi_network_script"], "?")
	script = strings.Trim(script, "/")
	if script != "route" {
		return route.Request{}, fmt.Errorf("unknown AGI script %q (this server has only \"route\")", vars["agi_network_script"])
	}
	endpoint, dialled := vars["agi_arg_1"], vars["agi_arg_2"]
	if endpoint == "" {
		return route.Request{}, fmt.Errorf("route: argument 1 (the calling endpoint) is missing")
	}
	return route.Request{Endpoint: route.EndpointOf(endpoint), Dialled: dialled,
		Hops: route.ParseHops(vars["agi_arg_3"], vars["agi_arg_4"]), Path: vars["agi_arg_5"]}, nil
}

// reply sets the decision's channel variables; a decision is never partly
// applied: KD_ROUTE, which the dialplan tests first, is set last.
func (s *Server) reply(log *slog.Logger, a *agi.AGI, d route.Decision) {
	vars := [][2]string{
		{VarDial, d.DialString()},
		{VarTimeout, ""},
		{VarCallerID, d.CallerID},
		{VarTarget, d.Target},
		{VarCause, ""},
		{VarTone, d.Tone},
		{VarReason, d.Reason},
		{VarHops, ""},
		{VarPath, ""},
	}
	if d.Kind == route.Peer && d.Hops > 0 {
		vars[7][1] = strconv.Itoa(d.Hops)
		vars[8][1] = d.Path
	}
	if d.Timeout > 0 {
		vars[1][1] = strconv.Itoa(int(d.Timeout / time.Second))
	}
	if d.Kind == route.Reject {
		vars[4][1] = strconv.Itoa(d.Cause)
	}
	vars = append(vars, [2]string{VarRoute, d.Kind.String()})
	for _, kv := range vars {
		if err := a.Set(kv[0], quote(kv[1])); err != nil {
			log.Warn("fastagi: SET VARIABLE failed", "var", kv[0], "err", err)
			return
		}
	}
}

// quote makes an AGI argument of v: the agi library sends arguments as they
// are, so a value with a space would be cut at it.
func quote(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, v)
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, `"`, `\"`)
	return `"` + v + `"`
}
