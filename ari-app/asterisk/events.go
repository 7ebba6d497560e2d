// Package asterisk is the ARI application's connection to Asterisk: an event
// stream over the ARI websocket that reconnects with back-off and tells its
// handler when it (re)connects, so the application can reconcile, and REST
// calls through the ari library with deadlines around them.
//
// The library's own websocket loop is not used: it retries every second
// without back-off, gives no hook on reconnect, and its bus drops events
// when a subscriber falls 100 behind. Here one goroutine reads the socket
// and hands each event, in order, to one handler; nothing is dropped.
package asterisk

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"golang.org/x/net/websocket"
)

// Handler receives what the stream sees, always from one goroutine.
type Handler interface {
	// Connected is called each time the websocket is up, before any event
	// read on it; reconnects are the moment to re-adopt channels.
	Connected(ctx context.Context, reconnect bool)
	// Event is called for each event, in the order Asterisk sent them.
	Event(ctx context.Context, e ari.Event)
	// Disconnected is called when a connection ends; events until the next
	// Connected are lost.
	Disconnected(err error)
}

// StreamConfig configures an event stream.
type StreamConfig struct {
	// URL is ARI's root, e.g. http://127.0.0.1:8088/ari.
	URL      string
	App      string
	User     string
	Password string
	// MinBackoff and MaxBackoff bound the wait between attempts; it doubles
	// after each failure, with jitter, and resets after a connection that
	// lasted.
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout bounds one connection attempt.
	DialTimeout time.Duration
	// MaxMessage bounds one websocket message.
	MaxMessage int
}

// Stream reads ARI events until its context ends.
type Stream struct {
	cfg     StreamConfig
	log     *slog.Logger
	stats   StreamStats
	healthy atomic.Bool
}

// StreamStats are counters for metrics; read them with Load.
type StreamStats struct {
	Connects     atomic.Int64 // successful connections
	Failures     atomic.Int64 // failed attempts and lost connections
	Events       atomic.Int64 // events delivered
	DecodeErrors atomic.Int64 // messages that were not ARI events
}

// NewStream returns a stream; Run starts it.
func NewStream(cfg StreamConfig, log *slog.Logger) (*Stream, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ari: URL %q is not http(s)://host:port/ari", cfg.URL)
	}
	if cfg.App == "" || cfg.User == "" {
		return nil, fmt.Errorf("ari: application and user are required")
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 1 << 20
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stream{cfg: cfg, log: log}, nil
}

// Stats returns the stream's counters.
func (s *Stream) Stats() *StreamStats { return &s.stats }

// Connected reports whether the websocket is up now.
func (s *Stream) Connected() bool { return s.healthy.Load() }

// eventsURL is the websocket URL of the application's events.
func (s *Stream) eventsURL() string {
	u, _ := url.Parse(strings.TrimRight(s.cfg.URL, "/") + "/events") // checked in NewStream
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	q := url.Values{}
	q.Set("app", s.cfg.App)
	u.RawQuery = q.Encode()
	return u.String()
}

// Run connects, delivers events and reconnects with back-off until ctx
// ends. It returns ctx's error.
func (s *Stream) Run(ctx context.Context, h Handler) error {
	backoff := s.cfg.MinBackoff
	reconnect := false
	for ctx.Err() == nil {
		started := time.Now()
		err := s.session(ctx, h, reconnect)
		if ctx.Err() != nil {
			break
		}
		s.stats.Failures.Add(1)
		if err != nil && !errors.Is(err, errNeverUp) {
			reconnect = true
		}
		// A connection that lasted a while starts the back-off afresh.
		if time.Since(started) > 4*s.cfg.MaxBackoff {
			backoff = s.cfg.MinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.log.Warn("ARI websocket down, retrying", "err", err, "retry_in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		backoff = min(2*backoff, s.cfg.MaxBackoff)
	}
	return ctx.Err()
}

var errNeverUp = errors.New("not connected")

// session runs one websocket connection to its end.
func (s *Stream) session(ctx context.Context, h Handler, reconnect bool) error {
	cfg, err := websocket.NewConfig(s.eventsURL(), "http://localhost/")
	if err != nil {
		return fmt.Errorf("%w: %v", errNeverUp, err)
	}
	cfg.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(s.cfg.User+":"+s.cfg.Password)))
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	ws, err := cfg.DialContext(dctx)
	cancel()
	if err != nil {
		return fmt.Errorf("%w: dial %s: %v", errNeverUp, redact(s.eventsURL()), err)
	}
	ws.MaxPayloadBytes = s.cfg.MaxMessage
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	defer ws.Close()

	s.stats.Connects.Add(1)
	s.healthy.Store(true)
	defer s.healthy.Store(false)
	s.log.Info("ARI websocket connected", "app", s.cfg.App, "reconnect", reconnect)
	h.Connected(ctx, reconnect)
	for {
		var data []byte
		if err := websocket.Message.Receive(ws, &data); err != nil {
			err = fmt.Errorf("read: %w", err)
			h.Disconnected(err)
			return err
		}
		e, err := decode(data)
		if err != nil {
			s.stats.DecodeErrors.Add(1)
			s.log.Warn("ARI message is not an event", "err", err, "bytes", len(data))
			continue
		}
		s.stats.Events.Add(1)
		h.Event(ctx, e)
	}
}

// redact keeps credentials out of logs should a URL ever carry them.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad URL)"
	}
	u.User = nil
	return u.String()
}

// Connects, Failures, Events and DecodeErrors read the stream's counters.
func (s *Stream) Connects() int64     { return s.stats.Connects.Load() }
func (s *Stream) Failures() int64     { return s.stats.Failures.Load() }
func (s *Stream) Events() int64       { return s.stats.Events.Load() }
func (s *Stream) DecodeErrors() int64 { return s.stats.DecodeErrors.Load() }
