package call

import "time"

// CommandKind says what a Command asks the adapter to do.
type CommandKind uint8

// Command kinds. The comment names the ARI request and the fields it uses.
// Every command carries Call (the call it serves) and Reason (why, for the
// adapter's log), and may carry Cause.
const (
	// CmdAnswer: POST /channels/{Channel}/answer.
	CmdAnswer CommandKind = iota + 1
	// CmdRing: POST /channels/{Channel}/ring (180 Ringing).
	CmdRing
	// CmdProgress: POST /channels/{Channel}/progress (183, early media).
	CmdProgress
	// CmdHangup: DELETE /channels/{Channel} with reason_code Cause. A 404
	// (already gone) is expected now and then and is not an error.
	CmdHangup
	// CmdDial: POST /channels/create with channelId Channel, endpoint
	// Endpoint (an Asterisk dial string such as PJSIP/blackphone or
	// PJSIP/+81312345678@twilio), originator Originator and caller ID
	// CallerID (as the CALLERID(num) variable) and, to a peer, the hop
	// count Hops (route.HopsVariable) and path Path (route.PathVariable),
	// then POST /channels/{Channel}/dial
	// with timeout Timeout. If either fails the adapter reports
	// EventChannelDestroyed for Channel with a cause. With AppTransfers
	// the channel is also created with
	// PJSIP_TRANSFER_HANDLING(ari-only) (TransferHandlingFunction).
	CmdDial
	// CmdCreateBridge: POST /bridges with bridgeId Bridge, type BridgeType.
	CmdCreateBridge
	// CmdDestroyBridge: DELETE /bridges/{Bridge}.
	CmdDestroyBridge
	// CmdAddToBridge: POST /bridges/{Bridge}/addChannel channel=Channel,
	// absorbDTMF=AbsorbDTMF.
	CmdAddToBridge
	// CmdRemoveFromBridge: POST /bridges/{Bridge}/removeChannel.
	CmdRemoveFromBridge
	// CmdStartMOH: POST /bridges/{Bridge}/moh with class MOHClass.
	CmdStartMOH
	// CmdStopMOH: DELETE /bridges/{Bridge}/moh.
	CmdStopMOH
	// CmdPlay: POST /channels/{Channel}/play/{Playback} with the Media
	// URIs in order (tone:…;tonezone=…, sound:…, number:…).
	CmdPlay
	// CmdStopPlayback: DELETE /playbacks/{Playback}.
	CmdStopPlayback
	// CmdContinue: POST /channels/{Channel}/continue: back to the dialplan.
	CmdContinue
	// CmdStartTimer: start timer Timer, to fire once After from now
	// (report EventTimerFired). IDs are never reused.
	CmdStartTimer
	// CmdCancelTimer: stop timer Timer; a late expiry is harmless.
	CmdCancelTimer
	// CmdCallEnded is no request: Record is the final record of a call
	// that just ended, for logs, metrics and the API's history.
	CmdCallEnded
	// CmdSetVariable: POST /channels/{Channel}/variable with variable
	// Name and value Value (a function such as
	// PJSIP_TRANSFER_HANDLING() too).
	CmdSetVariable
	// CmdTransferProgress: POST /channels/{Channel}/transfer_progress
	// with states TransferState: the NOTIFY (sipfrag) Asterisk sends the
	// transferer of a REFER the application carries out.
	CmdTransferProgress
	// CmdSendDTMF: POST /channels/{Channel}/dtmf with dtmf Digits.
	CmdSendDTMF
)

// TransferHandlingFunction and TransferHandlingARI hand a PJSIP channel's
// REFERs to the application (ChannelTransfer) instead of Asterisk's own
// transfer code (Asterisk 20.13, 21.8, 22.3 and later).
const (
	TransferHandlingFunction = "PJSIP_TRANSFER_HANDLING()"
	TransferHandlingARI      = "ari-only"
)

// TransferState is a transfer_progress state; Asterisk turns each into the
// sipfrag of a NOTIFY to the transferer.
type TransferState string

// Transfer states.
const (
	TransferProgress    TransferState = "channel_progress"    // 100 Trying, subscription active
	TransferAnswered    TransferState = "channel_answered"    // 200 OK, terminated
	TransferUnavailable TransferState = "channel_unavailable" // 503 Service Unavailable, terminated
	TransferDeclined    TransferState = "channel_declined"    // 603 Declined, terminated
)

func (k CommandKind) String() string {
	switch k {
	case CmdAnswer:
		return "answer"
	case CmdRing:
		return "ring"
	case CmdProgress:
		return "progress"
	case CmdHangup:
		return "hangup"
	case CmdDial:
		return "dial"
	case CmdCreateBridge:
		return "create-bridge"
	case CmdDestroyBridge:
		return "destroy-bridge"
	case CmdAddToBridge:
		return "add-to-bridge"
	case CmdRemoveFromBridge:
		return "remove-from-bridge"
	case CmdStartMOH:
		return "start-moh"
	case CmdStopMOH:
		return "stop-moh"
	case CmdPlay:
		return "play"
	case CmdStopPlayback:
		return "stop-playback"
	case CmdContinue:
		return "continue"
	case CmdStartTimer:
		return "start-timer"
	case CmdCancelTimer:
		return "cancel-timer"
	case CmdCallEnded:
		return "call-ended"
	case CmdSetVariable:
		return "set-variable"
	case CmdTransferProgress:
		return "transfer-progress"
	case CmdSendDTMF:
		return "send-dtmf"
	}
	return "unknown"
}

// BridgeType is an ARI bridge type.
type BridgeType uint8

// Bridge types.
const (
	BridgeMixing  BridgeType = iota + 1 // parties hear each other
	BridgeHolding                       // participants hear music on hold
)

func (t BridgeType) String() string {
	switch t {
	case BridgeMixing:
		return "mixing"
	case BridgeHolding:
		return "holding"
	}
	return "unknown"
}

// Command is one thing for the adapter to do. Like Event it is one plain
// struct; Kind says which fields are meaningful.
type Command struct {
	Kind CommandKind
	Call string

	Channel    string
	Bridge     string
	BridgeType BridgeType
	Playback   string
	Media      []string
	Endpoint   string
	Originator string
	CallerID   string
	Hops       int
	Path       string
	Timeout    time.Duration
	MOHClass   string
	Timer      string
	After      time.Duration
	Cause      int
	Record     *CallRecord
	Reason     string
	// CmdSetVariable.
	Name, Value string
	// CmdTransferProgress.
	TransferState TransferState
	// CmdDial: hand the channel's REFERs to the application.
	AppTransfers bool
	// CmdAddToBridge: the bridge keeps the channel's DTMF to itself (the
	// application still sees it), so a phone's flash digit never reaches
	// the far end.
	AbsorbDTMF bool
	// CmdSendDTMF.
	Digits string
}
