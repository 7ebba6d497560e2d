package call

// Direction is how a call entered the application.
type Direction uint8

// Directions.
const (
	Inbound  Direction = iota // from Twilio or a peer exchange
	Outbound                  // from one of our phones
	Adopted                   // found in the application after a reconnect
	directionCount
)

func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	case Adopted:
		return "adopted"
	}
	return "unknown"
}

// State is where a call is in its life.
type State uint8

// Call states.
const (
	// StateRinging: targets are being dialled; the caller waits.
	StateRinging State = iota
	// StateQueued: the caller is answered and holds for a busy phone.
	StateQueued
	// StateTalking: the parties are joined in a mixing bridge.
	StateTalking
	// StateDialTone: after a hook flash the other party is held and the
	// phone hears dial tone while it dials.
	StateDialTone
	// StateConsulting: after a hook flash the new party rings.
	StateConsulting
	// StateConsultTalking: the phone talks to the new party, the other
	// party still held.
	StateConsultTalking
	// StateConsultFailed: the new party could not be reached; the phone
	// hears a tone until it flashes back or the tone's limit passes.
	StateConsultFailed
	// StateTransferring: Asterisk transferred a party away and the engine
	// waits, briefly, for the channel that replaces it.
	StateTransferring
	// StateSignalling: the one remaining party hears a tone or an
	// announcement before it is released.
	StateSignalling
	// StateEnded: every leg is released.
	StateEnded
)

func (s State) String() string {
	switch s {
	case StateRinging:
		return "ringing"
	case StateQueued:
		return "queued"
	case StateTalking:
		return "talking"
	case StateDialTone:
		return "dial-tone"
	case StateConsulting:
		return "consulting"
	case StateConsultTalking:
		return "consult-talking"
	case StateConsultFailed:
		return "consult-failed"
	case StateTransferring:
		return "transferring"
	case StateSignalling:
		return "signalling"
	case StateEnded:
		return "ended"
	}
	return "unknown"
}

// Result is how a call ended.
type Result uint8

// Results.
const (
	ResultNone         Result = iota // still live
	ResultCompleted                  // answered, then ended
	ResultAbandoned                  // the caller hung up before an answer
	ResultNoAnswer                   // nobody answered in time
	ResultBusy                       // the target was busy (or its queue full)
	ResultRejected                   // the router refused the number
	ResultFailed                     // dialling failed (unreachable, congestion…)
	ResultQueueTimeout               // waited in the queue past the limit
	ResultTransferred                // left this engine by a transfer
	ResultLost                       // ended by reconciliation after a reconnect
	resultCount
)

func (r Result) String() string {
	switch r {
	case ResultNone:
		return "none"
	case ResultCompleted:
		return "completed"
	case ResultAbandoned:
		return "abandoned"
	case ResultNoAnswer:
		return "no-answer"
	case ResultBusy:
		return "busy"
	case ResultRejected:
		return "rejected"
	case ResultFailed:
		return "failed"
	case ResultQueueTimeout:
		return "queue-timeout"
	case ResultTransferred:
		return "transferred"
	case ResultLost:
		return "lost"
	}
	return "unknown"
}

// Role is what a leg does in its call.
type Role uint8

// Leg roles.
const (
	RoleCaller  Role = iota // the party waiting for an answer (or hearing a final tone)
	RoleTarget              // a leg being dialled for the caller
	RoleParty               // joined in the mixing bridge
	RoleHeld                // on hold after a hook flash
	RoleConsult             // the new party dialled after a hook flash
	// RoleTransferer: a softphone leg whose REFER the application carries
	// out. It is out of the bridge, waits for the outcome (NOTIFY) and
	// then hangs up itself, or gets its call back if the transfer fails.
	RoleTransferer
)

func (r Role) String() string {
	switch r {
	case RoleCaller:
		return "caller"
	case RoleTarget:
		return "target"
	case RoleParty:
		return "party"
	case RoleHeld:
		return "held"
	case RoleConsult:
		return "consult"
	case RoleTransferer:
		return "transferer"
	}
	return "unknown"
}

// LegState is a leg's channel as the engine knows it.
type LegState uint8

// Leg states.
const (
	LegPending  LegState = iota // offered or being dialled, not alerting
	LegAlerting                 // the far end rings
	LegUp                       // answered
	LegGone                     // hung up, destroyed, or handed away
)

func (s LegState) String() string {
	switch s {
	case LegPending:
		return "pending"
	case LegAlerting:
		return "alerting"
	case LegUp:
		return "up"
	case LegGone:
		return "gone"
	}
	return "unknown"
}

// timerKind is the purpose of a timer; a call has at most one of each.
type timerKind uint8

const (
	timerRing     timerKind = iota // ringing (whole, or one inorder member)
	timerQueue                     // maximum wait in the queue
	timerRetry                     // pause before ringing a phone that answered busy
	timerTone                      // limit of a tone or announcement
	timerDigits                    // first-digit or inter-digit timeout
	timerHold                      // limit of a hold after a hook flash
	timerTransfer                  // waiting for a transfer's replacement channel
	timerRefer                     // a transferer told the outcome, to hang up
	timerKinds
)

func (k timerKind) String() string {
	switch k {
	case timerRing:
		return "ring"
	case timerQueue:
		return "queue"
	case timerRetry:
		return "retry"
	case timerTone:
		return "tone"
	case timerDigits:
		return "digits"
	case timerHold:
		return "hold"
	case timerTransfer:
		return "transfer"
	case timerRefer:
		return "refer"
	}
	return "unknown"
}
