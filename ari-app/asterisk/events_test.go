package asterisk

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/websocket"
)

// recorder is a Handler that reports on channels.
type recorder struct {
	connected    chan bool
	events       chan ari.Event
	disconnected chan error
}

func newRecorder() *recorder {
	return &recorder{connected: make(chan bool, 16), events: make(chan ari.Event, 64), disconnected: make(chan error, 16)}
}

func (r *recorder) Connected(_ context.Context, reconnect bool) { r.connected <- reconnect }
func (r *recorder) Event(_ context.Context, e ari.Event)        { r.events <- e }
func (r *recorder) Disconnected(err error)                      { r.disconnected <- err }

func within[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
		var zero T
		return zero
	}
}

// fakeARI serves /ari/events; each connection sends the events of one
// script entry and then closes.
func fakeARI(t *testing.T, scripts [][]string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("/ari/events", websocket.Server{Handler: func(ws *websocket.Conn) {
		defer ws.Close()
		r := ws.Request()
		if u, p, ok := r.BasicAuth(); !ok || u != "kurodenwa" || p != "AriSecret2026x" || r.URL.Query().Get("app") != "kurodenwa" {
			return
		}
		i := int(n.Add(1)) - 1
		if i >= len(scripts) {
			_, _ = io.Copy(io.Discard, ws) // stay up until the client goes
			return
		}
		for _, msg := range scripts[i] {
			if err := websocket.Message.Send(ws, msg); err != nil {
				return
			}
		}
	}})
	srv := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(srv.Close)
	return srv, &n
}

func stasisStart(id string) string {
	return fmt.Sprintf(`{"type":"StasisStart","application":"kurodenwa","timestamp":"2026-11-24T15:00:00.000+0000","args":["outbound","blackphone","201"],"channel":{"id":%q,"name":"PJSIP/blackphone-1","state":"Ring"}}`, id)
}

func TestStreamDeliversInOrderAndReconnects(t *testing.T) {
	srv, conns := fakeARI(t, [][]string{
		{stasisStart("c1"), `not json`, stasisStart("c2")},
		{stasisStart("c3")},
	})
	s, err := NewStream(StreamConfig{URL: srv.URL + "/ari", App: "kurodenwa", User: "kurodenwa", Password: "AriSecret2026x",
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, nil)
	require.NoError(t, err)
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, rec) }()

	assert.False(t, within(t, rec.connected, "first connection"))
	for _, want := range []string{"c1", "c2"} {
		e := within(t, rec.events, "event "+want)
		require.IsType(t, &ari.StasisStart{}, e)
		assert.Equal(t, want, e.(*ari.StasisStart).Channel.ID)
		assert.Equal(t, []string{"outbound", "blackphone", "201"}, e.(*ari.StasisStart).Args)
	}
	within(t, rec.disconnected, "disconnect")
	assert.True(t, within(t, rec.connected, "reconnection"), "the handler learns it must reconcile")
	assert.Equal(t, "c3", within(t, rec.events, "event c3").(*ari.StasisStart).Channel.ID)
	assert.Equal(t, int64(1), s.Stats().DecodeErrors.Load())
	assert.Equal(t, int64(3), s.Stats().Events.Load())
	assert.GreaterOrEqual(t, conns.Load(), int32(2))

	cancel()
	assert.ErrorIs(t, within(t, done, "stop"), context.Canceled)
}

func TestStreamBacksOffWhileAsteriskIsDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/ari"
	srv.Close() // nothing listens there now
	s, err := NewStream(StreamConfig{URL: url, App: "kurodenwa", User: "kurodenwa", Password: "x",
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}, nil)
	require.NoError(t, err)
	rec := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.Run(ctx, rec), context.DeadlineExceeded)
	assert.Positive(t, s.Stats().Failures.Load())
	assert.Less(t, s.Stats().Failures.Load(), int64(100), "attempts are spaced by the back-off")
	assert.Empty(t, rec.connected)
	assert.False(t, s.Connected())
}

func TestNewStreamRejectsBadConfig(t *testing.T) {
	_, err := NewStream(StreamConfig{URL: "ftp://x", App: "a", User: "u"}, nil)
	assert.ErrorContains(t, err, "is not http(s)")
	_, err = NewStream(StreamConfig{URL: "http://127.0.0.1:8088/ari"}, nil)
	assert.ErrorContains(t, err, "application and user are required")
}
