package stasis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/ari-app/asterisk"
	"github.com/kurodenwa/kurodenwa/ari-app/call"
	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/site/sitetest"
)

// fakeREST records every request as one line and fails those told to.
type fakeREST struct {
	mu       sync.Mutex
	requests chan string
	fail     map[string]error // by request word: "dial", "play", …
	snapshot asterisk.Snapshot
}

func newFake() *fakeREST {
	return &fakeREST{requests: make(chan string, 256), fail: map[string]error{}}
}

func (f *fakeREST) rec(word string, args ...any) error {
	parts := []string{word}
	for _, a := range args {
		parts = append(parts, fmt.Sprint(a))
	}
	f.requests <- strings.Join(parts, " ")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[word]
}

func (f *fakeREST) Answer(_ context.Context, ch string) error   { return f.rec("answer", ch) }
func (f *fakeREST) Ring(_ context.Context, ch string) error     { return f.rec("ring", ch) }
func (f *fakeREST) Progress(_ context.Context, ch string) error { return f.rec("progress", ch) }
func (f *fakeREST) Hangup(_ context.Context, ch string, cause int) error {
	return f.rec("hangup", ch, cause)
}
func (f *fakeREST) Dial(_ context.Context, id, endpoint, originator string, vars map[string]string, timeout time.Duration) error {
	line := []any{id, endpoint, originator, vars["CALLERID(num)"], vars[route.PathVariable], vars[route.HopsVariable]}
	if h := vars[call.TransferHandlingFunction]; h != "" {
		line = append(line, "transfers="+h)
	}
	return f.rec("dial", line...)
}
func (f *fakeREST) CreateBridge(_ context.Context, id, typ string) error {
	return f.rec("create-bridge", typ)
}
func (f *fakeREST) DestroyBridge(_ context.Context, id string) error { return f.rec("destroy-bridge") }
func (f *fakeREST) AddToBridge(_ context.Context, bridge, ch string, absorbDTMF bool) error {
	if absorbDTMF {
		return f.rec("add", ch, "absorb")
	}
	return f.rec("add", ch)
}
func (f *fakeREST) SendDTMF(_ context.Context, ch, digits string) error {
	return f.rec("dtmf", ch, digits)
}
func (f *fakeREST) RemoveFromBridge(_ context.Context, bridge, ch string) error {
	return f.rec("remove", ch)
}
func (f *fakeREST) StartMOH(_ context.Context, bridge, class string) error {
	return f.rec("moh", class)
}
func (f *fakeREST) StopMOH(_ context.Context, bridge string) error { return f.rec("stop-moh") }
func (f *fakeREST) Play(_ context.Context, ch, playback string, media []string) error {
	return f.rec("play", ch, strings.Join(media, ","))
}
func (f *fakeREST) StopPlayback(_ context.Context, playback string) error {
	return f.rec("stop-playback")
}
func (f *fakeREST) Continue(_ context.Context, ch string) error { return f.rec("continue", ch) }
func (f *fakeREST) SetVariable(_ context.Context, ch, name, value string) error {
	return f.rec("set", ch, name+"="+value)
}
func (f *fakeREST) TransferProgress(_ context.Context, ch, state string) error {
	return f.rec("transfer-progress", ch, state)
}
func (f *fakeREST) AppSnapshot(context.Context) (asterisk.Snapshot, error) {
	return f.snapshot, f.rec("snapshot")
}

// expect waits (bounded) for the next requests, in order, each starting
// with the given text; unrelated requests between them fail the test.
func (f *fakeREST) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-f.requests:
			require.True(t, strings.HasPrefix(got, w), "want a request starting %q, got %q", w, got)
		case <-time.After(5 * time.Second):
			t.Fatalf("no request %q within 5 s", w)
		}
	}
}

// waitFor skips requests until one starts with w.
func (f *fakeREST) waitFor(t *testing.T, w string) string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-f.requests:
			if strings.HasPrefix(got, w) {
				return got
			}
		case <-deadline:
			t.Fatalf("no request %q within 5 s", w)
		}
	}
}

func testSite(t *testing.T) *site.Site {
	return sitetest.Load(t, "../../asterisk-conf/examples/site.yaml", nil)
}

// start runs an app on a fake Asterisk until the test ends.
func start(t *testing.T) (*App, *fakeREST, context.Context) {
	s := testSite(t)
	r, err := route.New(s)
	require.NoError(t, err)
	cfg := call.ConfigFromSite(s)
	cfg.IDPrefix = "kd"
	engine, err := call.New(cfg, r)
	require.NoError(t, err)
	f := newFake()
	app := New(engine, f, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the app did not stop")
		}
	})
	return app, f, ctx
}

// ev decodes ARI JSON as the websocket delivers it.
func ev(t *testing.T, format string, args ...any) ari.Event {
	t.Helper()
	e, err := ari.DecodeEvent([]byte(fmt.Sprintf(format, args...)))
	require.NoError(t, err)
	return e
}

const ts = `"timestamp":"2026-11-24T15:00:00.000+0900","application":"kurodenwa"`

func TestInboundCallThroughTheApp(t *testing.T) {
	app, f, ctx := start(t)
	// Twilio delivers a DID: the caller is not answered, only rung.
	app.Event(ctx, ev(t, `{"type":"StasisStart",%s,"args":["inbound","twilio","+815012345678"],"channel":{"id":"c1","name":"PJSIP/twilio-00000001","state":"Ring","caller":{"number":"+81312345678"}}}`, ts))
	dial := f.waitFor(t, "dial")
	assert.Contains(t, dial, "PJSIP/blackphone c1")
	id := strings.Fields(dial)[1]
	app.Event(ctx, ev(t, `{"type":"StasisStart",%s,"args":["dialled"],"channel":{"id":%q,"name":"PJSIP/blackphone-00000002","state":"Down"}}`, ts, id))
	app.Event(ctx, ev(t, `{"type":"Dial",%s,"peer":{"id":%q},"dialstatus":"RINGING"}`, ts, id))
	f.waitFor(t, "ring c1")
	// The black phone answers: now, and only now, the caller is answered.
	app.Event(ctx, ev(t, `{"type":"Dial",%s,"peer":{"id":%q},"dialstatus":"ANSWER"}`, ts, id))
	app.Event(ctx, ev(t, `{"type":"ChannelStateChange",%s,"channel":{"id":%q,"state":"Up"}}`, ts, id))
	f.waitFor(t, "answer c1")
	f.waitFor(t, "create-bridge mixing")

	v, err := app.Query(ctx)
	require.NoError(t, err)
	require.Len(t, v.Live, 1)
	assert.Equal(t, "blackphone", v.Live[0].Target)

	// The caller hangs up while the black phone is off hook: it hears the
	// hang-up tone (終話音) until the handset goes down.
	app.Event(ctx, ev(t, `{"type":"ChannelHangupRequest",%s,"cause":16,"channel":{"id":"c1"}}`, ts))
	app.Event(ctx, ev(t, `{"type":"ChannelDestroyed",%s,"cause":16,"channel":{"id":"c1"}}`, ts))
	assert.Contains(t, f.waitFor(t, "play "+id), "tone:hangup;tonezone=jp")
	app.Event(ctx, ev(t, `{"type":"ChannelHangupRequest",%s,"cause":16,"channel":{"id":%q}}`, ts, id))
	app.Event(ctx, ev(t, `{"type":"ChannelDestroyed",%s,"cause":16,"channel":{"id":%q}}`, ts, id))
	f.waitFor(t, "destroy-bridge")
	v, err = app.Query(ctx)
	require.NoError(t, err)
	assert.Empty(t, v.Live)
	require.Len(t, v.Recent, 1)
	assert.Equal(t, call.ResultCompleted, v.Recent[0].Result)
}

func TestFailedDialReachesTheEngine(t *testing.T) {
	app, f, ctx := start(t)
	f.fail["dial"] = errors.New("create: 500")
	app.Event(ctx, ev(t, `{"type":"StasisStart",%s,"args":["outbound","blackphone","202"],"channel":{"id":"c1","name":"PJSIP/blackphone-00000001","state":"Ring"}}`, ts))
	f.waitFor(t, "dial")
	// The failure comes back as the dialled channel's end: the caller
	// hears congestion in band instead of silence.
	f.waitFor(t, "progress c1")
	assert.Contains(t, f.waitFor(t, "play c1"), "tone:congestion;tonezone=jp")
}

func TestDrainHandsNewCallsToTheFallback(t *testing.T) {
	app, f, ctx := start(t)
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, app.Drain(dctx), "nothing live: drained at once")
	app.Event(ctx, ev(t, `{"type":"StasisStart",%s,"args":["outbound","blackphone","202"],"channel":{"id":"c7","name":"PJSIP/blackphone-00000007","state":"Ring"}}`, ts))
	f.expect(t, "set c7 KD_FALLBACK=1", "continue c7")
	v, err := app.Query(ctx)
	require.NoError(t, err)
	assert.Empty(t, v.Live, "the engine never saw the call")
}

func TestReconnectReconciles(t *testing.T) {
	app, f, ctx := start(t)
	// After a reconnect a lone, answered channel nobody knows is found.
	f.snapshot = asterisk.Snapshot{Channels: []ari.ChannelData{{ID: "lost1", Name: "PJSIP/linphone-00000009", State: "Up"}}}
	app.Connected(ctx, true)
	f.expect(t, "snapshot")
	assert.Equal(t, "hangup lost1 16", f.waitFor(t, "hangup lost1"))
}

func TestStasisArgsNameTheTransferer(t *testing.T) {
	assert.Equal(t, []string{"outbound", "linphone", "203"}, stasisArgs([]string{"outbound", "PJSIP/linphone-00000000", "203"}))
	assert.Equal(t, []string{"outbound", "blackphone", "201"}, stasisArgs([]string{"outbound", "blackphone", "201"}))
	assert.Equal(t, "", EndpointOf("blackphone"), "an endpoint name is no channel name")
	assert.Equal(t, "blackphone", EndpointOf("PJSIP/blackphone-0000002a"))
}

// A peer's call passing through us by our hop prefix leaves with its hop
// count raised by one and its path extended by us, in the variables that
// add X-Kurodenwa-Hops and X-Kurodenwa-Path.
func TestTransitCarriesTheHopCount(t *testing.T) {
	app, f, ctx := start(t)
	app.Event(ctx, ev(t, `{"type":"StasisStart",%s,"args":["inbound","peer-shibuya","9972100","3","","2c7b9d0e5a414f3b8e629d1a7c3f0b58"],"channel":{"id":"p1","name":"PJSIP/peer-shibuya-00000001","state":"Ring"}}`, ts))
	dial := f.waitFor(t, "dial")
	assert.Contains(t, dial, "PJSIP/100@peer-minato p1")
	assert.Contains(t, dial, " 2c7b9d0e5a414f3b8e629d1a7c3f0b58.6f1c8a520d2b4a8e9a553f0d1c2b7e41 ", "the path goes on, with us last")
	assert.True(t, strings.HasSuffix(dial, " 4"), "hop count 3+1 on the onward leg: %q", dial)
}

// With app transfers on, a softphone's REFER comes as ChannelTransfer: the
// softphone's channel is handed to the application when it calls, the
// transfer target is dialled like any call from it, and the transferer
// hears the outcome by transfer_progress. Asterisk's echoes of the
// progress (ChannelTransfer with a state) change nothing.
func TestChannelTransferThroughTheApp(t *testing.T) {
	app, f, ctx := start(t)
	app.SetAppTransfers(ctx, true)
	app.Event(ctx, ev(t, `{"type":"StasisStart",%s,"args":["outbound","linphone","201"],"channel":{"id":"l1","name":"PJSIP/linphone-00000001","state":"Ring"}}`, ts))
	f.expect(t, "set l1 PJSIP_TRANSFER_HANDLING()=ari-only", "dial")
	v, err := app.Query(ctx)
	require.NoError(t, err)
	require.Len(t, v.Live, 1)
	var id string
	for _, p := range v.Live[0].Parties {
		if p.Endpoint == "blackphone" {
			id = p.Channel
		}
	}
	require.NotEmpty(t, id)
	app.Event(ctx, ev(t, `{"type":"Dial",%s,"peer":{"id":%q},"dialstatus":"ANSWER"}`, ts, id))
	f.waitFor(t, "add "+id)
	transfer := func(state string) ari.Event {
		var e asterisk.ChannelTransfer
		require.NoError(t, json.Unmarshal([]byte(fmt.Sprintf(`{"type":"ChannelTransfer",%s%s,"refer_to":{"requested_destination":{"destination":"203"}},
			"referred_by":{"source_channel":{"id":"l1","name":"PJSIP/linphone-00000001"},"connected_channel":{"id":%q}}}`, ts, state, id)), &e))
		return &e
	}
	app.Event(ctx, transfer(""))
	f.waitFor(t, "transfer-progress l1 channel_progress")
	dial := f.waitFor(t, "dial")
	assert.Contains(t, dial, "PJSIP/agephone")
	assert.True(t, strings.HasSuffix(dial, "transfers=ari-only"), "the target is a softphone too: %q", dial)
	app.Event(ctx, transfer(`,"state":"channel_progress"`)) // the echo
	target := strings.Fields(dial)[1]
	app.Event(ctx, ev(t, `{"type":"Dial",%s,"peer":{"id":%q},"dialstatus":"ANSWER"}`, ts, target))
	f.waitFor(t, "transfer-progress l1 channel_answered")
	v, err = app.Query(ctx)
	require.NoError(t, err)
	require.Len(t, v.Live, 1)
	assert.Equal(t, "talking", v.Live[0].State.String())
}
