package call

import "time"

// EventKind says which ARI event (or timer expiry) an Event carries.
type EventKind uint8

// Event kinds. The comment names the ARI event and the fields it uses.
const (
	// EventStasisStart: a channel entered the application. Channel, Args
	// (the Stasis arguments), Endpoint (its PJSIP endpoint, if known),
	// CallerNumber, State, and ReplaceChannel when it swapped in for another
	// channel (a transfer's Local channel).
	EventStasisStart EventKind = iota + 1
	// EventStasisEnd: a channel left the application without being hung
	// up by it (sent to the dialplan by a transfer). Channel.
	EventStasisEnd
	// EventChannelState: ChannelStateChange. Channel, State.
	EventChannelState
	// EventHangupRequest: ChannelHangupRequest. Channel, Cause.
	EventHangupRequest
	// EventChannelDestroyed: ChannelDestroyed. Channel, Cause. The adapter
	// also reports a failed dial or create command this way.
	EventChannelDestroyed
	// EventDial: Dial. Channel is the dialled (peer) channel, DialStatus
	// its status, Cause the hang-up cause when known.
	EventDial
	// EventDTMF: ChannelDtmfReceived. Channel, Digit.
	EventDTMF
	// EventPlaybackFinished: PlaybackFinished. Playback.
	EventPlaybackFinished
	// EventTimerFired: a timer the engine started has expired. Timer.
	EventTimerFired
	// EventBlindTransfer: BridgeBlindTransfer. Channel (transferer),
	// Transferee, ReplaceChannel, Bridge, TransferOK.
	EventBlindTransfer
	// EventAttendedTransfer: BridgeAttendedTransfer. Channel (transferer's
	// first leg), SecondLeg, Transferee, TransferTarget, ReplaceChannel,
	// DestinationType, Bridge (destination bridge), TransferOK.
	EventAttendedTransfer
	// EventChannelTransfer: ChannelTransfer, a REFER handed to the
	// application (PJSIP_TRANSFER_HANDLING(ari-only)), which must carry it
	// out. Channel (referred_by.source_channel), Transferee
	// (referred_by.connected_channel), Destination (the number, blind) or
	// SecondLeg (refer_to.destination_channel) and TransferTarget
	// (refer_to.connected_channel) for an attended transfer. Only the
	// REFER itself: Asterisk's echoes of CmdTransferProgress (the event
	// with a state) are the adapter's to drop.
	EventChannelTransfer
)

func (k EventKind) String() string {
	switch k {
	case EventStasisStart:
		return "StasisStart"
	case EventStasisEnd:
		return "StasisEnd"
	case EventChannelState:
		return "ChannelStateChange"
	case EventHangupRequest:
		return "ChannelHangupRequest"
	case EventChannelDestroyed:
		return "ChannelDestroyed"
	case EventDial:
		return "Dial"
	case EventDTMF:
		return "ChannelDtmfReceived"
	case EventPlaybackFinished:
		return "PlaybackFinished"
	case EventTimerFired:
		return "TimerFired"
	case EventBlindTransfer:
		return "BridgeBlindTransfer"
	case EventAttendedTransfer:
		return "BridgeAttendedTransfer"
	case EventChannelTransfer:
		return "ChannelTransfer"
	}
	return "unknown"
}

// ChannelState is an ARI channel state, reduced to what the engine uses.
type ChannelState uint8

// Channel states.
const (
	ChannelOther   ChannelState = iota // Down, Rsrvd, OffHook, Dialing, …
	ChannelRing                        // "Ring": an incoming channel offered to us
	ChannelRinging                     // "Ringing": the far end is alerted
	ChannelUp                          // "Up": answered
	ChannelBusy                        // "Busy"
)

func (s ChannelState) String() string {
	switch s {
	case ChannelRing:
		return "Ring"
	case ChannelRinging:
		return "Ringing"
	case ChannelUp:
		return "Up"
	case ChannelBusy:
		return "Busy"
	}
	return "Other"
}

// ParseChannelState maps ARI's channel state names.
func ParseChannelState(s string) ChannelState {
	switch s {
	case "Ring":
		return ChannelRing
	case "Ringing":
		return ChannelRinging
	case "Up":
		return ChannelUp
	case "Busy":
		return ChannelBusy
	}
	return ChannelOther
}

// Dial statuses, as ARI's Dial event spells them.
const (
	DialRinging     = "RINGING"
	DialProgress    = "PROGRESS"
	DialAnswer      = "ANSWER"
	DialBusy        = "BUSY"
	DialNoAnswer    = "NOANSWER"
	DialCancel      = "CANCEL"
	DialCongestion  = "CONGESTION"
	DialChanUnavail = "CHANUNAVAIL"
)

// Event is one thing that happened. It is a plain struct rather than one
// type per event so the adapter fills one value and tests and the fuzzer
// build sequences cheaply; Kind says which fields are meaningful.
type Event struct {
	Kind EventKind
	// At is when it happened (the ARI event's timestamp); it dates call
	// records. A zero At keeps the previous event's time.
	At time.Time

	Channel  string
	Bridge   string
	Playback string
	Timer    string

	// StasisStart.
	Args           []string
	Endpoint       string
	CallerNumber   string
	ReplaceChannel string
	// Hops is how many exchange links a peer's call has crossed (its
	// X-Kurodenwa-Hops or Max-Forwards), from the Stasis arguments.
	Hops int
	// Path is the exchanges a peer's call crossed (X-Kurodenwa-Path).
	Path string

	State      ChannelState
	Cause      int
	DialStatus string
	Digit      string

	// Transfers.
	Transferee      string
	TransferTarget  string
	SecondLeg       string
	Destination     string
	DestinationType string // BridgeAttendedTransfer: bridge, link, threeway, application, fail
	TransferOK      bool   // the transfer's result was "Success"
}
