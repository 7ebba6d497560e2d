// kurodenwa line interface: the Arduino side of pi-gateway/atline/PROTOCOL.md.
//
// It watches the telephone loop (hook switch and rotary dial), rings the
// bell with the Japanese cadence, trips the ring when the handset is lifted,
// and switches the polarity and speech-path relays, talking to the Pi over
// USB serial at 115200 baud, 8N1. Wiring: see ../README.md.
//
// Timing follows pi-gateway/pulse's DefaultJapan: 10 ± 1 pps (make 30–42 %)
// and 20 ± 1.6 pps (make 30–36 %), N pulses = digit N, 10 = 0, 5 ms
// debounce, a digit sent after 600 ms (10 pps) or 450 ms (20 pps) of closed
// loop, a flash for an open loop of 100–1000 ms, on-hook after 1000 ms. A
// train that breaks the rules is dropped, never guessed.
//
// Everything runs from loop() on millis(): nothing blocks, so commands are
// answered within a few milliseconds whatever the line is doing.

#include <Arduino.h>

// ---- pins -------------------------------------------------------------
const uint8_t PIN_HOOK = 2;          // loop detector (optocoupler): LOW = loop current flows
const uint8_t PIN_RING_RELAY = 4;    // connects the ringing generator to the line
const uint8_t PIN_RING_DRIVE = 3;    // 16 Hz square wave for an inverter ring generator (optional)
const uint8_t PIN_REVERSE_RELAY = 5; // DPDT: swaps tip and ring
const uint8_t PIN_TALK_RELAY = 6;    // connects the hybrid (USB sound card) to the line
const uint8_t PIN_LED = LED_BUILTIN; // on while off hook

const bool RELAY_ACTIVE_HIGH = true; // most bare relay drivers; many relay boards are active low

// ---- timing (ms) ------------------------------------------------------
const uint16_t DEBOUNCE_MS = 5;
const uint16_t TRAIN_GAP_MS = 200;     // a make longer than this ends a pulse train
const uint16_t INTERDIGIT_10PPS = 600; // closed loop after a 10 pps train before DIGIT
const uint16_t INTERDIGIT_20PPS = 450;
const uint16_t FLASH_MIN_MS = 100;
const uint16_t FLASH_MAX_MS = 1000;
const uint16_t RING_ON_MS = 1000;      // 呼出信号: 1 s on, 2 s off, 16 Hz
const uint16_t RING_OFF_MS = 2000;
const uint16_t RING_HALF_PERIOD_MS = 31; // 16 Hz
// While the bell rings, AC ring current can flicker the loop detector at
// 32 Hz; only a loop closed this long is a lifted handset (ring trip).
const uint16_t RING_TRIP_MS = 100;

// Limits of one pulse, in microseconds, for each rate: break (open) and
// make (closed) lengths that the rates' speeds and make ratios allow.
struct Rate {
  uint32_t minBreak, maxBreak, minMake, maxMake, minPeriod, maxPeriod;
  uint16_t interdigit;
};
// 10 pps ± 1: period 90.9–111.1 ms; make 30–42 %.
const Rate RATE10 = {52727, 77778, 27273, 46667, 90909, 111111, INTERDIGIT_10PPS};
// 20 pps ± 1.6: period 46.3–54.3 ms; make 30–36 %.
const Rate RATE20 = {29630, 38043, 13889, 19565, 46296, 54348, INTERDIGIT_20PPS};

const char VERSION[] = "kurodenwa-arduino 1.0";

// ---- hook and dial state ------------------------------------------------
bool rawClosed;         // last raw reading
uint32_t rawSince;      // when the raw reading last changed (ms)
bool closed;            // debounced loop state
uint32_t levelSince;    // when the debounced state last changed (ms)
uint32_t levelSinceUs;  // the same in microseconds, for pulse timing
bool onHook = true;

uint8_t pulses;           // pulses of the train so far
bool trainBad;            // a pulse broke the rules: drop the train
bool fits10, fits20;      // which rates every pulse so far fits
uint32_t lastBreakStartUs;
uint32_t lastBreakUs;     // the open time of the latest pulse

// ---- outputs ------------------------------------------------------------
bool ringing, reversed, talk;
uint32_t ringPhaseSince;
bool ringBurst;           // inside a 1 s burst
uint32_t ringToggleAt;
bool ringDriveLevel;

// ---- serial input -------------------------------------------------------
char lineBuf[65];
uint8_t lineLen;
bool lineTooLong;

void relay(uint8_t pin, bool on) { digitalWrite(pin, on == RELAY_ACTIVE_HIGH ? HIGH : LOW); }

void applyOutputs() {
  // Never connect the sound card while the ringing voltage may be on the line.
  relay(PIN_TALK_RELAY, talk && !ringing);
  relay(PIN_REVERSE_RELAY, reversed);
  relay(PIN_RING_RELAY, ringing && ringBurst);
  if (!(ringing && ringBurst)) digitalWrite(PIN_RING_DRIVE, LOW);
}

void send(const char *s) { Serial.print(s); Serial.print("\r\n"); }

void sendDigit(uint8_t n) {
  Serial.print("DIGIT ");
  Serial.print(n % 10);
  Serial.print("\r\n");
}

void startRinging(uint32_t now) {
  ringing = true;
  ringBurst = true;
  ringPhaseSince = now;
  ringToggleAt = now;
  applyOutputs();
}

void stopRinging() {
  ringing = false;
  ringBurst = false;
  applyOutputs();
}

void resetTrain() {
  pulses = 0;
  trainBad = false;
  fits10 = fits20 = true;
}

// ---- dial decoding ------------------------------------------------------

bool within(uint32_t v, uint32_t lo, uint32_t hi) { return v >= lo && v <= hi; }

// A break of brkUs ended (loop closed again) at nowUs.
void pulseEnded(uint32_t brkUs, uint32_t nowUs) {
  if (pulses > 0) {
    // The make between this pulse and the previous one, and the period.
    uint32_t mk = levelSinceUs - (lastBreakStartUs + lastBreakUs);
    uint32_t period = (nowUs - brkUs) - lastBreakStartUs;
    fits10 = fits10 && within(mk, RATE10.minMake, RATE10.maxMake) && within(period, RATE10.minPeriod, RATE10.maxPeriod);
    fits20 = fits20 && within(mk, RATE20.minMake, RATE20.maxMake) && within(period, RATE20.minPeriod, RATE20.maxPeriod);
  }
  fits10 = fits10 && within(brkUs, RATE10.minBreak, RATE10.maxBreak);
  fits20 = fits20 && within(brkUs, RATE20.minBreak, RATE20.maxBreak);
  if (!fits10 && !fits20) trainBad = true;
  lastBreakStartUs = nowUs - brkUs;
  lastBreakUs = brkUs;
  pulses++;
  if (pulses > 10) trainBad = true;
}

// The debounced loop changed to nowClosed at now (ms) / nowUs.
void loopChanged(bool nowClosed, uint32_t now, uint32_t nowUs) {
  uint32_t heldMs = now - levelSince;
  uint32_t heldUs = nowUs - levelSinceUs;
  if (nowClosed) {
    if (onHook) {
      onHook = false;
      if (ringing) stopRinging(); // ring trip
      resetTrain();
      send("OFFHOOK");
    } else if (heldMs >= FLASH_MIN_MS) {
      // A long open: a flash, unless it cut a train short.
      if (pulses == 0) send("FLASH");
      resetTrain();
    } else {
      pulseEnded(heldUs, nowUs);
    }
  } else if (!onHook && pulses > 0 && heldMs > TRAIN_GAP_MS) {
    // A new break long after the last pulse: the previous train ended
    // without its inter-digit pause. It is dropped.
    resetTrain();
  }
  closed = nowClosed;
  levelSince = now;
  levelSinceUs = nowUs;
}

// Decisions that time alone forces: a digit after the pause, on-hook after
// a long open loop.
void loopTimeouts(uint32_t now) {
  uint32_t held = now - levelSince;
  if (closed && pulses > 0) {
    uint16_t gap = fits20 && !fits10 ? INTERDIGIT_20PPS : INTERDIGIT_10PPS;
    if (held >= gap) {
      if (!trainBad) sendDigit(pulses);
      resetTrain();
    }
  }
  if (!closed && !onHook && held > FLASH_MAX_MS) {
    onHook = true;
    resetTrain();
    reversed = false; // the exchange drops the answer signal with the call
    applyOutputs();
    send("ONHOOK");
  }
}

void readHook(uint32_t now) {
  bool raw = digitalRead(PIN_HOOK) == LOW;
  if (raw != rawClosed) {
    rawClosed = raw;
    rawSince = now;
  }
  uint16_t settle = (ringing && ringBurst && onHook) ? RING_TRIP_MS : DEBOUNCE_MS;
  if (rawClosed != closed && now - rawSince >= settle) {
    // Date the change from when the raw level settled, as the Pi's
    // decoder does, so pulse lengths are not stretched by the debounce.
    uint32_t ago = now - rawSince;
    loopChanged(rawClosed, now - ago, micros() - ago * 1000UL);
  }
  loopTimeouts(now);
  digitalWrite(PIN_LED, onHook ? LOW : HIGH);
}

// ---- ringing ------------------------------------------------------------

void runRinger(uint32_t now) {
  if (!ringing) return;
  uint32_t phase = now - ringPhaseSince;
  if (ringBurst && phase >= RING_ON_MS) {
    ringBurst = false;
    ringPhaseSince = now;
    applyOutputs();
  } else if (!ringBurst && phase >= RING_OFF_MS) {
    ringBurst = true;
    ringPhaseSince = now;
    ringToggleAt = now;
    applyOutputs();
  }
  if (ringBurst && (int32_t)(now - ringToggleAt) >= 0) {
    ringDriveLevel = !ringDriveLevel;
    digitalWrite(PIN_RING_DRIVE, ringDriveLevel ? HIGH : LOW);
    ringToggleAt = now + RING_HALF_PERIOD_MS;
  }
}

// ---- commands -----------------------------------------------------------

// Case-insensitive comparison of the trimmed line with word.
bool is(const char *s, const char *word) {
  while (*word) {
    if (toupper((unsigned char)*s) != *word) return false;
    s++;
    word++;
  }
  return *s == 0;
}

void command(char *s) {
  while (*s == ' ') s++;
  char *end = s + strlen(s);
  while (end > s && end[-1] == ' ') *--end = 0;
  if (*s == 0) return; // empty lines are ignored
  uint32_t now = millis();
  if (is(s, "AT")) {
    send("OK");
  } else if (is(s, "RING")) {
    if (!onHook) {
      send("ERROR off hook");
      return;
    }
    if (!ringing) startRinging(now);
    send("OK");
  } else if (is(s, "RINGSTOP")) {
    stopRinging();
    send("OK");
  } else if (is(s, "REVERSE")) {
    reversed = true;
    applyOutputs();
    send("OK");
  } else if (is(s, "TALK")) {
    talk = true;
    applyOutputs();
    send("OK");
  } else if (is(s, "IDLE")) {
    ringing = ringBurst = reversed = talk = false;
    applyOutputs();
    send("OK");
  } else {
    send("ERROR unknown command");
  }
}

void readSerial() {
  while (Serial.available() > 0) {
    int c = Serial.read();
    if (c == '\r' || c == '\n') {
      if (lineTooLong) {
        send("ERROR line too long");
      } else {
        lineBuf[lineLen] = 0;
        command(lineBuf);
      }
      lineLen = 0;
      lineTooLong = false;
    } else if (c < 0x20 || c > 0x7e) {
      // Noise drops the line it interrupts; the next starts after the run
      // (what a Pi-side reset or bootloader chatter looks like).
      lineLen = 0;
      lineTooLong = false;
    } else if (lineLen >= 64) {
      lineTooLong = true;
    } else {
      lineBuf[lineLen++] = (char)c;
    }
  }
}

// ---- main ---------------------------------------------------------------

void setup() {
  pinMode(PIN_HOOK, INPUT_PULLUP);
  pinMode(PIN_RING_RELAY, OUTPUT);
  pinMode(PIN_RING_DRIVE, OUTPUT);
  pinMode(PIN_REVERSE_RELAY, OUTPUT);
  pinMode(PIN_TALK_RELAY, OUTPUT);
  pinMode(PIN_LED, OUTPUT);
  applyOutputs();
  Serial.begin(115200);
  resetTrain();
  uint32_t now = millis();
  rawClosed = closed = false;
  rawSince = levelSince = now;
  levelSinceUs = micros();
  Serial.print("READY ");
  Serial.print(VERSION);
  Serial.print("\r\n");
  // A handset already up is reported as soon as the debounce settles, so
  // the Pi (which took READY to mean on hook) learns it.
}

void loop() {
  uint32_t now = millis();
  readSerial();
  readHook(now);
  runRinger(now);
}
