// Package sipua is the telephone Pi's SIP user agent, built on
// github.com/emiago/sipgo's transport and transaction layers: it registers
// the black phone (to Asterisk as extension "blackphone", or straight to a
// Twilio SIP Domain), places and receives calls, and gives each call an
// RTP audio path (package media).
//
// # Use
//
//	ua, err := sipua.New(sipua.Config{
//		User: "blackphone", Password: secret,
//		Registrar: "sip:pbx.lan", Bind: "0.0.0.0:5060",
//	}, log)
//	go ua.Run(ctx)                 // serve, register, refresh; unregister at the end
//	<-ua.Ready()                   // serving: Dial works from here
//	st := ua.Registration()        // or range ua.RegistrationUpdates()
//
//	call, err := ua.Dial(ctx, "0312345678")
//	for ev := range call.Events() { // Trying, Ringing, EarlyMedia, Answered, …, Ended
//	}
//
//	for call := range ua.Incoming() { // ring the bell; 180 Ringing is sent already
//		call.Answer(ctx)               // off hook: 200 OK, returns at the ACK
//		// or call.Reject(ctx, 486)
//	}
//
//	call.Audio().Read(ctx, frame)  // 160 samples every 20 ms, after the jitter buffer;
//	                               // silence until media flows, an error once the call is over
//	call.Audio().Write(ctx, frame) // 160 samples to send (never blocks; 100 ms queue)
//	call.SendDigit(ctx, 'A')       // RFC 4733; 'A' is the hook flash
//	call.Hangup(ctx)               // CANCEL, BYE or 480, as the state needs
//
// # Behaviour
//
// Registration refreshes at half the granted time, retries after failure
// with exponential back-off (2 s doubling to 5 min, jittered, at least a
// registrar's Retry-After) and never sends more than 5 REGISTER a second
// (Twilio SIP Domain's limit per address of record). Digest (MD5, qop
// auth) answers 401 and 407 for REGISTER, INVITE and in-dialog requests;
// the last challenge is reused for refreshes. Via carries rport; with
// RewriteContact the Contact follows the address the registrar saw.
//
// Each call is a state machine in its own goroutine (see CallState): an
// outgoing call goes Calling → Proceeding → Early → Confirmed, an incoming
// one Ringing → Answering → Confirmed, both then Terminating → Ended. The
// events channel never blocks it and closes after EventEnded. 18x with SDP
// starts early media (receive only) and reports EventEarlyMedia, so the
// phone stops its local ringback. A re-INVITE from the far end is answered
// at once with the new media direction; sendonly or inactive (or c=0.0.0.0)
// reports EventHeld, a return to sendrecv EventResumed. OPTIONS are
// answered; INFO application/dtmf-relay becomes EventDTMF.
//
// Only MaxCalls calls (default 1) exist at once: a further INVITE is
// answered 486 Busy Here. The password is never logged (Config.LogValue).
//
// Transports: UDP (requests leave from the listening socket, so replies
// and NAT bindings share one address), TCP, and TLS (a listener only when
// Config.TLS has a certificate; otherwise requests to the UA come back over
// its own connection). Media: Config.Media sets the jitter buffer, gains
// and symmetric RTP (latch onto where the far end's packets come from,
// for peers whose SDP address is not where they are).
//
// Not done: sending hold (re-INVITE) ourselves, PRACK/100rel (an INVITE
// requiring it is not refused with 420), UPDATE, REFER, RTCP, SRTP.
package sipua
