package asterisk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/CyCoreSystems/ari/v6/client/arimocks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
)

// notFound is the library's error for a 404.
type notFound struct{}

func (notFound) Error() string { return "Non-2XX response: 404 Not Found" }
func (notFound) Code() int     { return 404 }

func mocks(t *testing.T) (*REST, *arimocks.Client, *arimocks.Channel, *arimocks.Bridge) {
	c := arimocks.NewClient(t)
	ch := arimocks.NewChannel(t)
	br := arimocks.NewBridge(t)
	c.On("Channel").Return(ch).Maybe()
	c.On("Bridge").Return(br).Maybe()
	return NewRESTWith(c, RESTConfig{URL: "http://127.0.0.1:1/ari", App: "kurodenwa", User: "u", Password: "p", Timeout: 200 * time.Millisecond}), c, ch, br
}

func TestRESTRequests(t *testing.T) {
	ctx := context.Background()
	r, _, ch, br := mocks(t)
	key := ari.NewKey(ari.ChannelKey, "c1")

	ch.On("Answer", key).Return(nil).Once()
	require.NoError(t, r.Answer(ctx, "c1"))

	ch.On("Hangup", key, "busy").Return(nil).Once()
	require.NoError(t, r.Hangup(ctx, "c1", 17))

	ch.On("Hangup", key, "normal").Return(notFound{}).Once()
	assert.ErrorIs(t, r.Hangup(ctx, "c1", 16), ErrNotFound, "a 404 is recognisable")

	bk := ari.NewKey(ari.BridgeKey, "kd-b1")
	br.On("Create", bk, "mixing", "kd-b1").Return(nil, nil).Once()
	require.NoError(t, r.CreateBridge(ctx, "kd-b1", "mixing"))
	br.On("AddChannel", bk, "c1").Return(nil).Once()
	require.NoError(t, r.AddToBridge(ctx, "kd-b1", "c1", false))
	br.On("AddChannelWithOptions", bk, "c2", &ari.BridgeAddChannelOptions{AbsorbDTMF: true}).Return(nil).Once()
	require.NoError(t, r.AddToBridge(ctx, "kd-b1", "c2", true), "a phone with a flash digit keeps its DTMF from the bridge")
	ch.On("SendDTMF", key, "5", (*ari.DTMFOptions)(nil)).Return(nil).Once()
	require.NoError(t, r.SendDTMF(ctx, "c1", "5"))
	br.On("MOH", bk, "default").Return(nil).Once()
	require.NoError(t, r.StartMOH(ctx, "kd-b1", "default"))

	ch.On("Play", key, "kd-p1", "tone:busy;tonezone=jp").Return(nil, nil).Once()
	require.NoError(t, r.Play(ctx, "c1", "kd-p1", []string{"tone:busy;tonezone=jp"}))

	// A function is set like a variable: ARI's variable request writes it.
	ch.On("SetVariable", key, "PJSIP_TRANSFER_HANDLING()", "ari-only").Return(nil).Once()
	require.NoError(t, r.SetVariable(ctx, "c1", "PJSIP_TRANSFER_HANDLING()", "ari-only"))
}

// fakeCreate answers POST /ari/channels/create with status and records
// each request body.
func fakeCreate(t *testing.T, status int) (string, chan map[string]any) {
	bodies := make(chan map[string]any, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/ari/channels/create" {
			http.NotFound(w, req)
			return
		}
		if u, p, ok := req.BasicAuth(); !ok || u != "u" || p != "p" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var b map[string]any
		_ = json.NewDecoder(req.Body).Decode(&b)
		bodies <- b
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/ari", bodies
}

func restOn(t *testing.T, url string) (*REST, *arimocks.Channel) {
	c := arimocks.NewClient(t)
	ch := arimocks.NewChannel(t)
	c.On("Channel").Return(ch).Maybe()
	return NewRESTWith(c, RESTConfig{URL: url, App: "kurodenwa", User: "u", Password: "p", Timeout: 2 * time.Second}), ch
}

// Dial creates the channel with its variables in one request, then dials;
// a 409 (not yet in Stasis) is waited out.
func TestRESTDial(t *testing.T) {
	url, bodies := fakeCreate(t, http.StatusOK)
	r, ch := restOn(t, url)
	dk := ari.NewKey(ari.ChannelKey, "kd-c2")
	ch.On("Dial", dk, "c1", 60*time.Second).Return(conflict{}).Twice()
	ch.On("Dial", dk, "c1", 60*time.Second).Return(nil).Once()
	require.NoError(t, r.Dial(context.Background(), "kd-c2", "PJSIP/2680@peer-shibuya", "c1",
		map[string]string{"CALLERID(num)": "201", "PJSIP_HEADER(add,X-Kurodenwa-Hops)": "1"}, 60*time.Second))
	b := <-bodies
	assert.Equal(t, "kd-c2", b["channelId"])
	assert.Equal(t, "PJSIP/2680@peer-shibuya", b["endpoint"])
	assert.Equal(t, "kurodenwa", b["app"])
	assert.Equal(t, "c1", b["originator"])
	assert.Equal(t, map[string]any{"CALLERID(num)": "201", "PJSIP_HEADER(add,X-Kurodenwa-Hops)": "1"}, b["variables"])
}

func TestRESTCreateFailureStopsDial(t *testing.T) {
	url, _ := fakeCreate(t, http.StatusInternalServerError)
	r, ch := restOn(t, url)
	err := r.Dial(context.Background(), "kd-c9", "PJSIP/blackphone", "c1", nil, time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "create kd-c9")
	ch.AssertNotCalled(t, "Dial", mock.Anything, mock.Anything, mock.Anything)

	url, _ = fakeCreate(t, http.StatusNotFound)
	r, _ = restOn(t, url)
	assert.ErrorIs(t, r.Dial(context.Background(), "kd-c9", "PJSIP/nobody", "", nil, time.Minute), ErrNotFound)
}

// conflict is the library's error for a 409.
type conflict struct{}

func (conflict) Error() string { return "Non-2XX response: 409 Conflict" }
func (conflict) Code() int     { return 409 }

// A request that never returns is cut at the deadline: the library gives
// requests no context of their own.
func TestRESTDeadline(t *testing.T) {
	r, _, ch, _ := mocks(t)
	release := make(chan struct{})
	defer close(release)
	ch.On("Ring", mock.Anything).Run(func(mock.Arguments) { <-release }).Return(nil).Once()
	err := r.Ring(context.Background(), "c1")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "ring c1")
}

func TestHangupReason(t *testing.T) {
	for cause, want := range map[int]string{1: "unallocated", 16: "normal", 17: "busy", 19: "no_answer", 21: "rejected", 28: "number_incomplete", 34: "congestion", 41: "failure", 0: "normal"} {
		assert.Equal(t, want, HangupReason(cause), "cause %d", cause)
	}
}

func TestAppSnapshotSkipsWhatVanished(t *testing.T) {
	r, c, ch, br := mocks(t)
	app := arimocks.NewApplication(t)
	c.On("Application").Return(app)
	app.On("Data", ari.NewKey(ari.ApplicationKey, "kurodenwa")).Return(&ari.ApplicationData{ChannelIDs: []string{"c1", "gone"}, BridgeIDs: []string{"b1"}}, nil)
	ch.On("Data", ari.NewKey(ari.ChannelKey, "c1")).Return(&ari.ChannelData{ID: "c1", Name: "PJSIP/blackphone-00000001", State: "Up"}, nil)
	ch.On("Data", ari.NewKey(ari.ChannelKey, "gone")).Return(nil, notFound{})
	br.On("Data", ari.NewKey(ari.BridgeKey, "b1")).Return(&ari.BridgeData{ID: "b1", Type: "mixing", ChannelIDs: []string{"c1"}}, nil)
	snap, err := r.AppSnapshot(context.Background())
	require.NoError(t, err)
	require.Len(t, snap.Channels, 1)
	assert.Equal(t, "c1", snap.Channels[0].ID)
	require.Len(t, snap.Bridges, 1)
}

// TestRESTTransferProgress: the request Asterisk's transfer_progress
// takes (rest-api/api-docs/channels.json): POST, states in the query, no
// body; a 404 (the transferer is gone) is recognisable.
func TestRESTTransferProgress(t *testing.T) {
	type seen struct{ method, path, states, ctype string }
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); !ok || u != "u" || p != "p" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got <- seen{req.Method, req.URL.EscapedPath(), req.URL.Query().Get("states"), req.Header.Get("Content-Type")}
		if req.URL.Path == "/ari/channels/gone/transfer_progress" {
			http.Error(w, `{"message":"Channel not found"}`, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	r, _ := restOn(t, srv.URL+"/ari")
	require.NoError(t, r.TransferProgress(context.Background(), "kd1-c 5", "channel_answered"))
	assert.Equal(t, seen{http.MethodPost, "/ari/channels/kd1-c%205/transfer_progress", "channel_answered", ""}, <-got)
	err := r.TransferProgress(context.Background(), "gone", "channel_declined")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "transfer progress channel_declined on gone")
	<-got
}

// A ChannelTransfer as Asterisk 22 sends it (main/stasis_channels.c): the
// request has no state; each transfer_progress is echoed with one.
func TestDecodeChannelTransfer(t *testing.T) {
	e, err := decode([]byte(`{"type":"ChannelTransfer","application":"kurodenwa","timestamp":"2026-11-24T17:00:00.000+0000",
		"refer_to":{"requested_destination":{"destination":"203","protocol_id":"abc@host",
		"additional_protocol_params":[{"parameter_name":"from","parameter_value":"t1"}]},
		"destination_channel":{"id":"c3","name":"PJSIP/linphone-00000003"},"connected_channel":{"id":"c4"},"bridge":{"id":"b2"}},
		"referred_by":{"source_channel":{"id":"c1","name":"PJSIP/linphone-00000001"},"connected_channel":{"id":"c2"},"bridge":{"id":"b1"}}}`))
	require.NoError(t, err)
	ct, ok := e.(*ChannelTransfer)
	require.True(t, ok)
	assert.Equal(t, "203", ct.ReferTo.RequestedDestination.Destination)
	assert.Equal(t, "c3", ct.ReferTo.DestinationChannel.ID)
	assert.Equal(t, "c4", ct.ReferTo.ConnectedChannel.ID)
	assert.Equal(t, "c1", ct.ReferredBy.SourceChannel.ID)
	assert.Equal(t, "c2", ct.ReferredBy.ConnectedChannel.ID)
	assert.Empty(t, ct.State, "the request itself")
	assert.Equal(t, "ChannelTransfer", ct.GetType())
	e, err = decode([]byte(`{"type":"ChannelTransfer","state":"channel_answered","refer_to":{"requested_destination":{"destination":"203"}},
		"referred_by":{"source_channel":{"id":"c1"}}}`))
	require.NoError(t, err)
	assert.Equal(t, "channel_answered", e.(*ChannelTransfer).State)
	_, err = decode([]byte(`{"type":"NoSuchEvent"}`))
	assert.Error(t, err)
}

// FuzzDecode: any websocket message decodes to an event or an error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"StasisStart","args":["outbound","blackphone","201"],"channel":{"id":"c1","name":"PJSIP/blackphone-1"}}`))
	f.Add([]byte(`{"type":"ChannelTransfer","refer_to":{"requested_destination":{"destination":"202"}}}`))
	f.Add([]byte(`{"type":"Dial","peer":{"id":"c2"},"dialstatus":"ANSWER"}`))
	f.Add([]byte(`{"type":7}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decode(data)
		if err == nil && e == nil {
			t.Fatal("nil event without an error")
		}
	})
}
