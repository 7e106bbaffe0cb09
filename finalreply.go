package smtplib

// FinalReply makes the send store in *dst the server's reply after the
// message data, such as "250 2.0.0 Ok: queued as 4BXf2k0Q1z": the queue
// identifier in it traces the message through the server's logs. It is
// stored whenever that reply arrived, whatever its code, so a refused
// message sets it as well as returning a [*DataError]; when the
// transaction ended earlier *dst is left as it was. For LMTP, which
// answers once per accepted recipient, it is the last of those replies
// (each recipient's own is in the refused map when it was a refusal). In
// [SMTP.SendBatch], a mail's FinalReply gets its Result.Reply.
// The send's results are the same with or without it. A nil dst is a
// [*CommandError], before anything is sent.
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
