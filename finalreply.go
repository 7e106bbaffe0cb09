package smtplib

// FinalReply makes a send store the server's reply after the data in *dst,
// such as "250 2.0.0 Ok: queued as 4BXf2k0Q1z" (see [Reply.QueueID]).
func FinalReply(dst *Reply) SendOption {
	return func(o *sendOptions) { o.final, o.finalSet = dst, true }
}

// checkFinal refuses FinalReply(nil).
func (o *sendOptions) checkFinal() error {
	if o.finalSet && o.final == nil {
		return &CommandError{Reason: "FinalReply: the destination is nil"}
	}
	return nil
}

// finalReply is the reply after the data that a send reports (for LMTP
// the last recipient's), if the transaction got that far: the one place
// that says which reply that is, for FinalReply and SendBatch's
// Result.Reply.
func (t *txn) finalReply() (Reply, bool) {
	if t == nil || len(t.final) == 0 {
		return Reply{}, false
	}
	return t.final[len(t.final)-1], true
}

// noteFinal stores t's final reply where FinalReply asked.
func (o *sendOptions) noteFinal(t *txn) {
	if r, ok := t.finalReply(); ok && o.final != nil {
		*o.final = r
	}
}
