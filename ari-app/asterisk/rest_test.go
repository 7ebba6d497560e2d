package asterisk

import (
	"context"
	"errors"
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

	// Dial is create, caller ID, dial: in that order, with the pre-assigned ID.
	dk := ari.NewKey(ari.ChannelKey, "kd-c2")
	create := ch.On("Create", dk, ari.ChannelCreateRequest{ChannelID: "kd-c2", Endpoint: "PJSIP/+81312345678@twilio", App: "kurodenwa", AppArgs: "dialled", Originator: "c1"}).Return(nil, nil).Once()
	setCID := ch.On("SetVariable", dk, "CALLERID(num)", "+815012345678").Return(nil).Once().NotBefore(create)
	ch.On("Dial", dk, "c1", 60*time.Second).Return(nil).Once().NotBefore(setCID)
	require.NoError(t, r.Dial(ctx, "kd-c2", "PJSIP/+81312345678@twilio", "c1", "+815012345678", 60*time.Second))

	bk := ari.NewKey(ari.BridgeKey, "kd-b1")
	br.On("Create", bk, "mixing", "kd-b1").Return(nil, nil).Once()
	require.NoError(t, r.CreateBridge(ctx, "kd-b1", "mixing"))
	br.On("AddChannel", bk, "c1").Return(nil).Once()
	require.NoError(t, r.AddToBridge(ctx, "kd-b1", "c1"))
	br.On("MOH", bk, "default").Return(nil).Once()
	require.NoError(t, r.StartMOH(ctx, "kd-b1", "default"))

	ch.On("Play", key, "kd-p1", "tone:busy;tonezone=jp").Return(nil, nil).Once()
	require.NoError(t, r.Play(ctx, "c1", "kd-p1", []string{"tone:busy;tonezone=jp"}))
}

func TestRESTCreateFailureStopsDial(t *testing.T) {
	r, _, ch, _ := mocks(t)
	dk := ari.NewKey(ari.ChannelKey, "kd-c9")
	ch.On("Create", dk, mock.Anything).Return(nil, errors.New("Non-2XX response: 500 Internal Server Error")).Once()
	err := r.Dial(context.Background(), "kd-c9", "PJSIP/blackphone", "c1", "", time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "create kd-c9")
	ch.AssertNotCalled(t, "Dial", mock.Anything, mock.Anything, mock.Anything)
}

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

func TestDecodeChannelTransfer(t *testing.T) {
	e, err := decode([]byte(`{"type":"ChannelTransfer","application":"kurodenwa","state":"requested",
		"refer_to":{"requested_destination":{"destination":"202"},"destination_channel":{"id":"c3"},"connected_channel":{"id":"c4"}},
		"referred_by":{"source_channel":{"id":"c1"},"connected_channel":{"id":"c2"}}}`))
	require.NoError(t, err)
	ct, ok := e.(*ChannelTransfer)
	require.True(t, ok)
	assert.Equal(t, "202", ct.ReferTo.RequestedDestination.Destination)
	assert.Equal(t, "c1", ct.ReferredBy.SourceChannel.ID)
	assert.Equal(t, "ChannelTransfer", ct.GetType())
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
