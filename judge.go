package smtplib

// How the engine reads each reply: what it means for the command it
// answers, and for the transaction and the session.

// refuse ends t with err after the server's reply r. This is where "a 421
// closes, anything else resets" is decided for every transaction: 421 says
// the server is shutting the session down (RFC 5321 section 3.8), so the
// client closes and nothing after it was processed; any other refusal
// leaves the session usable, and a RSET is owed before the next
// transaction.
func (e *engine) refuse(t *txn, r Reply, err error) {
	if t != nil {
		t.err = err
	}
	if r.Code == 421 {
		e.s.noteClose(closeNote{reply: r})
		e.s.Close()
		e.end(&ServerDisconnectedError{Msg: "the server closed the session", Err: ptr(respErr(r))}, false)
		return
	}
	e.rset = true
}

// judge decides what reply r means for the command p it answers. It
// reports whether p awaits another reply (LMTP's end of data).
func (e *engine) judge(p inflight, r Reply) (more bool) {
	t := p.t
	switch p.kind {
	case inMail:
		if r.Code != 250 {
			e.refuse(t, r, &SenderRefusedError{respErr(r), t.from})
			return
		}
		e.checkSomeAccepted(t, -1)
	case inRcpt:
		if t.err != nil {
			return // the sender was refused: these replies only drain
		}
		if r.Code == 250 || r.Code == 251 {
			t.accepted = append(t.accepted, t.to[p.i])
		} else {
			t.refused[t.to[p.i]] = r
		}
		if r.Code == 421 {
			e.refuse(t, r, &RecipientsRefusedError{Recipients: t.refused})
			return
		}
		e.checkSomeAccepted(t, p.i)
	case inData:
		e.judgeData(t, r)
	case inChunk:
		if t.err == nil && r.Code != 250 {
			e.refuse(t, r, &DataError{respErr(r)})
		}
	case inFinal:
		return e.judgeFinal(t, r)
	}
	return false
}

// checkSomeAccepted fails t once its last envelope reply (the RCPT
// numbered i, or MAIL, i = -1, when there are no recipients) is in and
// every recipient was refused. Like smtplib it compares the number of
// refused addresses with the number given, so a refused address listed
// twice counts once.
func (e *engine) checkSomeAccepted(t *txn, i int) {
	if i == len(t.to)-1 && len(t.refused) == len(t.to) {
		e.refuse(t, Reply{}, &RecipientsRefusedError{Recipients: t.refused})
	}
}

// judgeData judges the reply to DATA.
func (e *engine) judgeData(t *txn, r Reply) {
	if t.err != nil {
		// A server that said 354 although no recipient was accepted gets
		// the lone "." that ends the data, so that it leaves data mode; no
		// message data is sent.
		if r.Code == 354 && e.s.write([]byte(".\r\n"), wr{phase: phaseDataBlock, hold: e.pipelined()}) == nil {
			e.add(inDrain, nil, 0)
		}
		return
	}
	e.s.debugData(r)
	if r.Code == 354 {
		t.dataGo = true
		return
	}
	// smtplib neither resets nor closes here, even on 421: the next
	// transaction, if any, does (see engine.dataRefused).
	t.err = &DataError{respErr(r)}
	e.dataRefused = &r
}

// judgeFinal judges a reply after the end of the data, and reports
// whether more are due: LMTP answers once per accepted recipient (RFC 2033
// section 4.2).
func (e *engine) judgeFinal(t *txn, r Reply) (more bool) {
	if t.err != nil {
		return false // BDAT LAST after a failed envelope or chunk: drained
	}
	e.s.debugData(r)
	t.final = append(t.final, r)
	if !e.s.proto().perRecipient {
		t.done = true
		if r.Code != 250 {
			e.refuse(t, r, &DataError{respErr(r)})
		}
		return false
	}
	if len(t.final) < len(t.accepted) {
		return true
	}
	t.done = true
	for _, f := range t.final {
		if f.Code == 421 {
			// The transaction is over whatever the replies say, so no
			// RSET is owed; a 421 among them still ends the session.
			e.refuse(nil, f, nil)
			break
		}
	}
	return false
}
