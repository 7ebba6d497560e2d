// Package status is the gateway's local HTTP server: GET /health for people
// and scripts (registration, line, phone state, calls) and GET /metrics for
// Prometheus. It only reads: each part of the daemon reports through a
// small interface, so the SIP side, the line and the phone logic feed it
// without knowing about HTTP.
package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
)

// Registration states.
const (
	RegUnregistered = "unregistered"
	RegRegistering  = "registering"
	RegRegistered   = "registered"
	RegFailed       = "failed"
)

// RegStates lists the registration states, for metrics.
var regStates = []string{RegUnregistered, RegRegistering, RegRegistered, RegFailed}

// Registration is the SIP registration as the SIP side sees it.
type Registration struct {
	State     string    `json:"state"`            // one of the Reg… constants
	Registrar string    `json:"registrar"`        // where
	Detail    string    `json:"detail,omitempty"` // e.g. the last failure's status
	Expires   time.Time `json:"expires,omitzero"`
}

// Call is one SIP call in progress.
type Call struct {
	ID        string    `json:"id"`
	Direction string    `json:"direction"` // "in" or "out"
	Remote    string    `json:"remote"`
	State     string    `json:"state"`
	Since     time.Time `json:"since"`
}

// Media is the RTP counters, summed over calls since start.
type Media struct {
	PacketsSent     uint64  `json:"packets_sent"`
	PacketsReceived uint64  `json:"packets_received"`
	PacketsLost     uint64  `json:"packets_lost"`
	PacketsLate     uint64  `json:"packets_late"`   // arrived after their playout time
	JitterSeconds   float64 `json:"jitter_seconds"` // RFC 3550 interarrival jitter, current call
}

// SIP is what the SIP side reports.
type SIP interface {
	Registration() Registration
	Calls() []Call
}

// MediaSource is what the media side reports.
type MediaSource interface {
	Media() Media
}

// Line is what the line backend reports; every line.Line is one.
type Line interface {
	Status() string
}

// Phone is what the phone logic reports; *phone.Runner is one.
type Phone interface {
	Snapshot() phone.Snapshot
	Results() map[phone.Result]uint64
}

// Options are the sources; any may be nil and is then left out.
type Options struct {
	SIP    SIP
	Media  MediaSource
	Line   Line
	Phone  Phone
	Logger *slog.Logger
}

// Server serves /health and /metrics.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
}

// New builds the handlers and the Prometheus registry (its own, with the
// Go runtime and process collectors).
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, log: opts.Logger.With("component", "status")}
	reg := prometheus.NewRegistry()
	if err := errors.Join(
		reg.Register(collectors.NewGoCollector()),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
		reg.Register(&collector{opts: opts}),
	); err != nil {
		return nil, fmt.Errorf("status: metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogAdapter{s.log}}))
	s.handler = mux
	return s, nil
}

// Handler serves the two endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on ln until ctx ends, then shuts down within 5 s.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("status server listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("status: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("status: shutdown: %w", err)
	}
	return nil
}

// ListenAndServe listens on addr (http.listen) and serves.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("status: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Health is the /health document.
type Health struct {
	OK           bool          `json:"ok"`
	Problems     []string      `json:"problems,omitempty"`
	Registration *Registration `json:"registration,omitempty"`
	Line         *LineHealth   `json:"line,omitempty"`
	Calls        []Call        `json:"calls"`
	Media        *Media        `json:"media,omitempty"`
}

// LineHealth is the line and the phone logic.
type LineHealth struct {
	Backend   string `json:"backend,omitempty"`
	State     string `json:"state,omitempty"`
	Call      string `json:"call,omitempty"`
	Digits    string `json:"digits,omitempty"`
	Tone      string `json:"tone,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// Health gathers the document; OK is false when not registered.
func (s *Server) Health() Health {
	h := Health{OK: true, Calls: []Call{}}
	if s.opts.SIP != nil {
		r := s.opts.SIP.Registration()
		h.Registration = &r
		if r.State != RegRegistered {
			h.OK = false
			h.Problems = append(h.Problems, "not registered: "+r.State+" "+r.Detail)
		}
		if c := s.opts.SIP.Calls(); c != nil {
			h.Calls = c
		}
	}
	if s.opts.Line != nil || s.opts.Phone != nil {
		h.Line = &LineHealth{}
		if s.opts.Line != nil {
			h.Line.Backend = s.opts.Line.Status()
		}
		if s.opts.Phone != nil {
			snap := s.opts.Phone.Snapshot()
			h.Line.State, h.Line.Call, h.Line.Digits = snap.State.String(), string(snap.Call), snap.Digits
			h.Line.LastError = snap.LastError
			if snap.Tone != phone.ToneNone {
				h.Line.Tone = snap.Tone.String()
			}
		}
	}
	if s.opts.Media != nil {
		m := s.opts.Media.Media()
		h.Media = &m
	}
	return h
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	h := s.Health()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !h.OK {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(h); err != nil {
		s.log.Debug("health: write", "err", err)
	}
}

type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Println(v ...any) { a.log.Warn("metrics", "err", fmt.Sprint(v...)) }
