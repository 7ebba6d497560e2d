// Package httpapi is the ARI application's HTTP server, on 127.0.0.1 by
// default: GET /health, GET /calls, GET /calls/{id} and GET /metrics, and,
// added with Handle, GET /.well-known/mantela.json, GET /mantela/status and
// GET /routes.
package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kurodenwa/kurodenwa/ari-app/call"
)

// Snapshot is the engine's state as the API shows it.
type Snapshot struct {
	Live   []call.CallRecord
	Recent []call.CallRecord
	Stats  call.Stats
}

// Health is what /health reports.
type Health struct {
	// Source gives the ARI connection's state and Asterisk's version.
	Connected func() bool
	Version   func() string
	// Transfers says who carries out softphones' REFERs: "application"
	// (ari-only) or "asterisk".
	Transfers func() string
	Started   time.Time
}

// Server serves the API.
type Server struct {
	source  func(context.Context) (Snapshot, error)
	health  Health
	metrics *Metrics
	mux     *http.ServeMux
}

// New returns the API's handler. Extra routes (mantela.json, routes) are
// added with Handle.
func New(source func(context.Context) (Snapshot, error), health Health, metrics *Metrics) *Server {
	s := &Server{source: source, health: health, metrics: metrics, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /health", s.getHealth)
	s.mux.HandleFunc("GET /calls", s.getCalls)
	s.mux.HandleFunc("GET /calls/{id}", s.getCall)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
	return s
}

// Handle adds a route.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// party and callJSON are the JSON shapes of the API.
type party struct {
	Channel  string `json:"channel"`
	Endpoint string `json:"endpoint,omitempty"`
	Number   string `json:"number,omitempty"`
	Role     string `json:"role"`
	State    string `json:"state"`
}

type callJSON struct {
	ID        string     `json:"id"`
	Direction string     `json:"direction"`
	State     string     `json:"state"`
	Dialled   string     `json:"dialled,omitempty"`
	Target    string     `json:"target,omitempty"`
	Parties   []party    `json:"parties"`
	Created   time.Time  `json:"created"`
	Answered  *time.Time `json:"answered,omitempty"`
	Ended     *time.Time `json:"ended,omitempty"`
	Result    string     `json:"result,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	// Seconds is the call's age (live) or length (ended).
	Seconds float64 `json:"seconds"`
}

func toJSON(r call.CallRecord, now time.Time) callJSON {
	c := callJSON{
		ID: r.ID, Direction: r.Direction.String(), State: r.State.String(), Dialled: r.Dialled, Target: r.Target,
		Created: r.Created, Reason: r.Reason, Parties: make([]party, len(r.Parties)),
	}
	for i, p := range r.Parties {
		c.Parties[i] = party{Channel: p.Channel, Endpoint: p.Endpoint, Number: p.Number, Role: p.Role.String(), State: p.State.String()}
	}
	end := now
	if !r.Answered.IsZero() {
		t := r.Answered
		c.Answered = &t
	}
	if !r.Ended.IsZero() {
		t := r.Ended
		c.Ended, end = &t, t
		c.Result = r.Result.String()
	}
	c.Seconds = end.Sub(r.Created).Seconds()
	return c
}

func (s *Server) snapshot(w http.ResponseWriter, r *http.Request) (Snapshot, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	snap, err := s.source(ctx)
	if err != nil {
		http.Error(w, "the call engine did not answer: "+err.Error(), http.StatusServiceUnavailable)
		return snap, false
	}
	return snap, true
}

func (s *Server) getCalls(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.snapshot(w, r)
	if !ok {
		return
	}
	now := time.Now()
	out := struct {
		Live   []callJSON `json:"live"`
		Recent []callJSON `json:"recent"`
	}{Live: []callJSON{}, Recent: []callJSON{}}
	for _, c := range snap.Live {
		out.Live = append(out.Live, toJSON(c, now))
	}
	for _, c := range snap.Recent {
		out.Recent = append(out.Recent, toJSON(c, now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request) {
	snap, ok := s.snapshot(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	for _, list := range [][]call.CallRecord{snap.Live, snap.Recent} {
		for _, c := range list {
			if c.ID == id {
				writeJSON(w, http.StatusOK, toJSON(c, time.Now()))
				return
			}
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no call " + id})
}

func (s *Server) getHealth(w http.ResponseWriter, r *http.Request) {
	connected := s.health.Connected != nil && s.health.Connected()
	version := ""
	if s.health.Version != nil {
		version = s.health.Version()
	}
	transfers := ""
	if s.health.Transfers != nil {
		transfers = s.health.Transfers()
	}
	status := http.StatusOK
	state := "ok"
	if !connected {
		// Calls still work through the dialplan's FastAGI fallback, but
		// the application is not in charge: say so to monitoring.
		status, state = http.StatusServiceUnavailable, "ari-disconnected"
	}
	writeJSON(w, status, map[string]any{
		"status":           state,
		"ari_connected":    connected,
		"asterisk_version": version,
		"transfers":        transfers,
		"uptime_seconds":   time.Since(s.health.Started).Seconds(),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
