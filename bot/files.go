package bot

import (
	"context"
	"fmt"
	"io"
	"net/http"

	tg "github.com/go-telegram/bot"

	"pensionbot/flows"
)

// fileFetcher downloads attachments through getFile. The download link
// holds the bot token, so neither it nor errors quoting it are logged.
type fileFetcher struct{ bot *Bot }

// ErrFileTooLarge means an attachment is over the allowed size.
// It wraps flows.ErrTooLarge, so a step can advise a smaller photo.
var ErrFileTooLarge = fmt.Errorf("bot: %w", flows.ErrTooLarge)

func (f *fileFetcher) Fetch(ctx context.Context, fileID string, max int64) ([]byte, error) {
	b := f.bot
	var file, err = b.tg.GetFile(ctx, &tg.GetFileParams{FileID: fileID})
	if err != nil {
		return nil, fmt.Errorf("get file: %w", redact(err, b.opt.Token))
	}
	if max > 0 && file.FileSize > max {
		return nil, fmt.Errorf("%w: %d bytes", ErrFileTooLarge, file.FileSize)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.tg.FileDownloadLink(file), nil)
	if err != nil {
		return nil, fmt.Errorf("download file: %w", redact(err, b.opt.Token))
	}
	resp, err := b.opt.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download file: %w", redact(err, b.opt.Token))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download file: status %d", resp.StatusCode)
	}
	limit := max
	if limit <= 0 {
		limit = 20 << 20
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("download file: %w", redact(err, b.opt.Token))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrFileTooLarge, limit)
	}
	return data, nil
}
