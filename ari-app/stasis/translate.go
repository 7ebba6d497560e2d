package stasis

import (
	"strings"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/kurodenwa/kurodenwa/ari-app/asterisk"
	"github.com/kurodenwa/kurodenwa/ari-app/call"
	"github.com/kurodenwa/kurodenwa/internal/route"
)

// translate turns an ARI event into the engine's event; ok is false for
// events the engine has no use for.
func translate(e ari.Event) (call.Event, bool) {
	switch e := e.(type) {
	case *ari.StasisStart:
		// A peer's call carries its hop count as two more arguments.
		args, peer := splitHops(e.Args)
		return call.Event{
			Kind: call.EventStasisStart, At: at(e.Timestamp), Channel: e.Channel.ID, Args: stasisArgs(args),
			Endpoint: EndpointOf(e.Channel.Name), CallerNumber: callerNumber(e.Channel),
			State: call.ParseChannelState(e.Channel.State), ReplaceChannel: e.ReplaceChannel.ID, Hops: peer.hops, Path: peer.path,
		}, true
	case *ari.StasisEnd:
		return call.Event{Kind: call.EventStasisEnd, At: at(e.Timestamp), Channel: e.Channel.ID}, true
	case *ari.ChannelStateChange:
		return call.Event{Kind: call.EventChannelState, At: at(e.Timestamp), Channel: e.Channel.ID, State: call.ParseChannelState(e.Channel.State)}, true
	case *ari.ChannelHangupRequest:
		return call.Event{Kind: call.EventHangupRequest, At: at(e.Timestamp), Channel: e.Channel.ID, Cause: e.Cause}, true
	case *ari.ChannelDestroyed:
		return call.Event{Kind: call.EventChannelDestroyed, At: at(e.Timestamp), Channel: e.Channel.ID, Cause: e.Cause}, true
	case *ari.Dial:
		return call.Event{Kind: call.EventDial, At: at(e.Timestamp), Channel: e.Peer.ID, DialStatus: e.Dialstatus}, true
	case *ari.ChannelDtmfReceived:
		return call.Event{Kind: call.EventDTMF, At: at(e.Timestamp), Channel: e.Channel.ID, Digit: e.Digit}, true
	case *ari.PlaybackFinished:
		return call.Event{Kind: call.EventPlaybackFinished, At: at(e.Timestamp), Playback: e.Playback.ID}, true
	case *ari.BridgeBlindTransfer:
		return call.Event{
			Kind: call.EventBlindTransfer, At: at(e.Timestamp), Channel: e.Channel.ID, Transferee: e.Transferee.ID,
			ReplaceChannel: e.ReplaceChannel.ID, Bridge: e.Bridge.ID, TransferOK: e.Result == "Success",
		}, true
	case *ari.BridgeAttendedTransfer:
		bridge := e.DestinationBridge
		if bridge == "" {
			bridge = e.DestinationThreewayBridge.ID
		}
		return call.Event{
			Kind: call.EventAttendedTransfer, At: at(e.Timestamp), Channel: e.TransfererFirstLeg.ID,
			SecondLeg: e.TransfererSecondLeg.ID, Transferee: e.Transferee.ID, TransferTarget: e.TransferTarget.ID,
			ReplaceChannel: e.ReplaceChannel.ID, DestinationType: e.DestinationType, Bridge: bridge,
			TransferOK: e.Result == "Success",
		}, true
	case *asterisk.ChannelTransfer:
		if e.State != "" {
			// Asterisk echoes each transfer_progress as a ChannelTransfer
			// with its state; only the REFER itself (no state) is news.
			return call.Event{}, false
		}
		return call.Event{
			Kind: call.EventChannelTransfer, At: at(e.Timestamp), Channel: e.ReferredBy.SourceChannel.ID,
			Transferee: e.ReferredBy.ConnectedChannel.ID, Destination: e.ReferTo.RequestedDestination.Destination,
			SecondLeg: e.ReferTo.DestinationChannel.ID, TransferTarget: e.ReferTo.ConnectedChannel.ID,
		}, true
	}
	return call.Event{}, false
}

func at(d ari.DateTime) time.Time { return time.Time(d) }

func callerNumber(c ari.ChannelData) string {
	if c.Caller == nil {
		return ""
	}
	return c.Caller.Number
}

// EndpointOf takes the PJSIP endpoint from a channel name.
func EndpointOf(name string) string {
	if !strings.Contains(name, "/") {
		return "" // not a channel name
	}
	return route.EndpointOf(name)
}

// stasisArgs reduces a channel name given as the calling endpoint (a blind
// transfer's transferer, from BLINDTRANSFER) to the endpoint.
func stasisArgs(args []string) []string {
	if len(args) >= 2 && strings.Contains(args[1], "/") {
		args = append([]string(nil), args...)
		args[1] = route.EndpointOf(args[1])
	}
	return args
}

// channelInfo and bridgeInfo describe what a reconnect found.
func channelInfo(c ari.ChannelData) call.ChannelInfo {
	return call.ChannelInfo{ID: c.ID, Endpoint: EndpointOf(c.Name), Number: callerNumber(c), State: call.ParseChannelState(c.State)}
}

func bridgeInfo(b ari.BridgeData) call.BridgeInfo {
	t := call.BridgeMixing
	if b.Type == "holding" {
		t = call.BridgeHolding
	}
	return call.BridgeInfo{ID: b.ID, Type: t, Channels: append([]string(nil), b.ChannelIDs...)}
}
