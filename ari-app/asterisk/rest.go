package asterisk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/CyCoreSystems/ari/v6/client/native"
)

// REST makes ARI requests through the ari library, each under a deadline:
// the library's requests take no context and its HTTP client has no
// timeout, so a stalled Asterisk would otherwise stall the caller forever.
// The request goroutine of a call that timed out finishes in the
// background when Asterisk answers or the connection breaks.
type REST struct {
	client  ari.Client
	app     string
	timeout time.Duration
	// raw is for requests the library does not have (progress).
	raw             *http.Client
	base, user, pwd string
}

// RESTConfig configures REST.
type RESTConfig struct {
	URL, App, User, Password string
	// Timeout bounds each request (default 3 s).
	Timeout time.Duration
}

// NewREST returns a REST client for the application.
func NewREST(cfg RESTConfig) (*REST, error) {
	if _, err := url.Parse(cfg.URL); err != nil || cfg.URL == "" {
		return nil, fmt.Errorf("ari: bad URL %q", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	c := native.New(&native.Options{Application: cfg.App, URL: strings.TrimRight(cfg.URL, "/"), Username: cfg.User, Password: cfg.Password})
	return NewRESTWith(c, cfg), nil
}

// NewRESTWith wraps an existing ari.Client (tests pass arimocks).
func NewRESTWith(c ari.Client, cfg RESTConfig) *REST {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	return &REST{
		client: c, app: cfg.App, timeout: cfg.Timeout,
		raw:  &http.Client{Timeout: cfg.Timeout},
		base: strings.TrimRight(cfg.URL, "/"), user: cfg.User, pwd: cfg.Password,
	}
}

// code is the HTTP status of a failed request, or 0.
func code(err error) int {
	var c interface{ Code() int }
	if errors.As(err, &c) {
		return c.Code()
	}
	return 0
}

// ErrNotFound reports a 404: the channel, bridge or playback is gone.
var ErrNotFound = errors.New("not found")

// do runs f under the deadline and names the request in its error.
func (r *REST) do(ctx context.Context, what string, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err == nil {
			return nil
		}
		if code(err) == http.StatusNotFound {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		return fmt.Errorf("%s: %w", what, err)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
}

func chanKey(id string) *ari.Key   { return ari.NewKey(ari.ChannelKey, id) }
func bridgeKey(id string) *ari.Key { return ari.NewKey(ari.BridgeKey, id) }

// Answer answers a channel.
func (r *REST) Answer(ctx context.Context, ch string) error {
	return r.do(ctx, "answer "+ch, func() error { return r.client.Channel().Answer(chanKey(ch)) })
}

// Ring indicates ringing (180) to a channel.
func (r *REST) Ring(ctx context.Context, ch string) error {
	return r.do(ctx, "ring "+ch, func() error { return r.client.Channel().Ring(chanKey(ch)) })
}

// Progress indicates progress (183, early media). The library lacks it,
// so it is a plain request; a 404 (an Asterisk older than 22 has no such
// request, or the channel is gone) gets Ring instead.
func (r *REST) Progress(ctx context.Context, ch string) error {
	err := r.do(ctx, "progress "+ch, func() error { return r.post(ctx, "/channels/"+url.PathEscape(ch)+"/progress", nil) })
	if errors.Is(err, ErrNotFound) {
		return r.Ring(ctx, ch)
	}
	return err
}

// Hangup hangs a channel up with a Q.850 cause.
func (r *REST) Hangup(ctx context.Context, ch string, cause int) error {
	return r.do(ctx, "hangup "+ch, func() error { return r.client.Channel().Hangup(chanKey(ch), HangupReason(cause)) })
}

// HangupReason maps a Q.850 cause to the reason names ARI's hangup takes.
func HangupReason(cause int) string {
	switch cause {
	case 1:
		return "unallocated"
	case 17:
		return "busy"
	case 18, 19:
		return "no_answer"
	case 21:
		return "rejected"
	case 26:
		return "answered_elsewhere"
	case 28:
		return "number_incomplete"
	case 34, 42:
		return "congestion"
	case 38, 41:
		return "failure"
	case 58:
		return "codec_mismatch"
	case 127:
		return "interworking"
	case 31:
		return "normal_unspecified"
	}
	return "normal"
}

// Dial creates a channel with a pre-assigned ID in the application and
// dials it. Its variables (caller ID, a peer's hop count) go in the create
// request itself: set afterwards they race the channel's entry into
// Stasis (409 "Channel not in a Stasis application"), and the library's
// create has no variables. The dial waits out that entry the same way.
func (r *REST) Dial(ctx context.Context, id, endpoint, originator string, vars map[string]string, timeout time.Duration) error {
	body := map[string]any{"endpoint": endpoint, "app": r.app, "appArgs": "dialled", "channelId": id}
	if originator != "" {
		body["originator"] = originator
	}
	if len(vars) > 0 {
		body["variables"] = vars
	}
	if err := r.do(ctx, "create "+id, func() error {
		return r.post(ctx, "/channels/create", body)
	}); err != nil {
		return err
	}
	const attempts = 20
	for i := 0; ; i++ {
		err := r.do(ctx, "dial "+id, func() error { return r.client.Channel().Dial(chanKey(id), originator, timeout) })
		if code(err) != http.StatusConflict || i == attempts-1 {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dial %s: %w", id, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// post makes a POST the library cannot make, with body as JSON (none if
// nil).
func (r *REST) post(ctx context.Context, path string, body any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(r.user, r.pwd)
	resp, err := r.raw.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &statusError{code: resp.StatusCode, text: fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(msg))}
	}
	return nil
}

// statusError is a non-2xx answer to a request made here; it carries its
// code like the library's errors do.
type statusError struct {
	code int
	text string
}

func (e *statusError) Error() string { return e.text }
func (e *statusError) Code() int     { return e.code }

// CreateBridge creates a bridge with a pre-assigned ID.
func (r *REST) CreateBridge(ctx context.Context, id, typ string) error {
	return r.do(ctx, "create bridge "+id, func() error {
		_, err := r.client.Bridge().Create(bridgeKey(id), typ, id)
		return err
	})
}

// DestroyBridge destroys a bridge.
func (r *REST) DestroyBridge(ctx context.Context, id string) error {
	return r.do(ctx, "destroy bridge "+id, func() error { return r.client.Bridge().Delete(bridgeKey(id)) })
}

// AddToBridge puts a channel in a bridge; with absorbDTMF the bridge does
// not pass the channel's DTMF to the others (ARI still reports it).
func (r *REST) AddToBridge(ctx context.Context, bridge, ch string, absorbDTMF bool) error {
	return r.do(ctx, "add "+ch+" to "+bridge, func() error {
		if !absorbDTMF {
			return r.client.Bridge().AddChannel(bridgeKey(bridge), ch)
		}
		return r.client.Bridge().AddChannelWithOptions(bridgeKey(bridge), ch, &ari.BridgeAddChannelOptions{AbsorbDTMF: true})
	})
}

// SendDTMF plays DTMF digits to a channel (as RFC 4733 events or SIP INFO,
// whatever its endpoint uses), with ARI's default timing.
func (r *REST) SendDTMF(ctx context.Context, ch, digits string) error {
	return r.do(ctx, "dtmf "+digits+" to "+ch, func() error { return r.client.Channel().SendDTMF(chanKey(ch), digits, nil) })
}

// RemoveFromBridge takes a channel out of a bridge.
func (r *REST) RemoveFromBridge(ctx context.Context, bridge, ch string) error {
	return r.do(ctx, "remove "+ch+" from "+bridge, func() error { return r.client.Bridge().RemoveChannel(bridgeKey(bridge), ch) })
}

// StartMOH plays music on hold to a bridge.
func (r *REST) StartMOH(ctx context.Context, bridge, class string) error {
	return r.do(ctx, "moh "+bridge, func() error { return r.client.Bridge().MOH(bridgeKey(bridge), class) })
}

// StopMOH stops a bridge's music on hold.
func (r *REST) StopMOH(ctx context.Context, bridge string) error {
	return r.do(ctx, "stop moh "+bridge, func() error { return r.client.Bridge().StopMOH(bridgeKey(bridge)) })
}

// Play starts a playback with a pre-assigned ID on a channel.
func (r *REST) Play(ctx context.Context, ch, playback string, media []string) error {
	return r.do(ctx, "play "+playback+" on "+ch, func() error {
		_, err := r.client.Channel().Play(chanKey(ch), playback, media...)
		return err
	})
}

// StopPlayback stops a playback.
func (r *REST) StopPlayback(ctx context.Context, playback string) error {
	return r.do(ctx, "stop playback "+playback, func() error {
		return r.client.Playback().Stop(ari.NewKey(ari.PlaybackKey, playback))
	})
}

// Continue sends a channel back to the dialplan after Stasis().
func (r *REST) Continue(ctx context.Context, ch string) error {
	return r.do(ctx, "continue "+ch, func() error { return r.client.Channel().Continue(chanKey(ch), "", "", 0) })
}

// TransferProgress reports the progress of a REFER the application carries
// out (POST /channels/{id}/transfer_progress?states=…, Asterisk 20.13,
// 21.8, 22.3 and later): Asterisk sends the transferer a NOTIFY whose
// sipfrag says state (channel_progress 100, channel_answered 200,
// channel_unavailable 503, channel_declined 603). The library lacks it.
func (r *REST) TransferProgress(ctx context.Context, ch, state string) error {
	return r.do(ctx, "transfer progress "+state+" on "+ch, func() error {
		q := url.Values{"states": {state}}
		return r.post(ctx, "/channels/"+url.PathEscape(ch)+"/transfer_progress?"+q.Encode(), nil)
	})
}

// SetVariable sets a channel variable.
func (r *REST) SetVariable(ctx context.Context, ch, name, value string) error {
	return r.do(ctx, "set "+name+" on "+ch, func() error { return r.client.Channel().SetVariable(chanKey(ch), name, value) })
}

// Version returns Asterisk's version.
func (r *REST) Version(ctx context.Context) (string, error) {
	var v string
	err := r.do(ctx, "asterisk info", func() error {
		info, err := r.client.Asterisk().Info(nil)
		if err != nil {
			return err
		}
		v = info.SystemInfo.Version
		return nil
	})
	return v, err
}

// Snapshot is what the application holds in Asterisk now, for
// reconciliation after a reconnect.
type Snapshot struct {
	Channels []ari.ChannelData
	Bridges  []ari.BridgeData
}

// AppSnapshot lists the channels and bridges in the application
// (GET /applications/{app}) with each one's data.
func (r *REST) AppSnapshot(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	var app *ari.ApplicationData
	err := r.do(ctx, "application "+r.app, func() error {
		var err error
		app, err = r.client.Application().Data(ari.NewKey(ari.ApplicationKey, r.app))
		return err
	})
	if err != nil {
		return s, err
	}
	for _, id := range app.ChannelIDs {
		var d *ari.ChannelData
		err := r.do(ctx, "channel "+id, func() error {
			var err error
			d, err = r.client.Channel().Data(chanKey(id))
			return err
		})
		if errors.Is(err, ErrNotFound) {
			continue // gone meanwhile
		}
		if err != nil {
			return s, err
		}
		s.Channels = append(s.Channels, *d)
	}
	for _, id := range app.BridgeIDs {
		var d *ari.BridgeData
		err := r.do(ctx, "bridge "+id, func() error {
			var err error
			d, err = r.client.Bridge().Data(bridgeKey(id))
			return err
		})
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return s, err
		}
		s.Bridges = append(s.Bridges, *d)
	}
	return s, nil
}
