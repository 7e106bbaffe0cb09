package main

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// commandTokenSource is the oauth2.TokenSource of --oauth2-token-cmd: each
// Token runs the command with sh -c and takes what it prints on stdout,
// trimmed, as the access token, as from gcloud auth print-access-token.
// The command's stderr goes to ours, so that its prompts and complaints
// are seen; it gets no stdin, and timeout to print the token.
type commandTokenSource struct {
	ctx     context.Context
	command string
	stderr  io.Writer
	timeout time.Duration
}

func (s *commandTokenSource) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", s.command)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, s.stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, usageErrorf("--oauth2-token-cmd printed no token within %s", s.timeout)
		}
		return nil, usageErrorf("--oauth2-token-cmd %q failed: %v", s.command, err)
	}
	token := strings.TrimSpace(out.String())
	switch {
	case token == "":
		return nil, usageErrorf("--oauth2-token-cmd %q printed no token", s.command)
	case strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		// Never shown: it may hold the token.
		return nil, usageErrorf("--oauth2-token-cmd %q printed more than a token: spaces, line breaks or control characters", s.command)
	}
	return &oauth2.Token{AccessToken: token, TokenType: "Bearer"}, nil
}
