package models

import "context"

// checkRule refuses the ids of model that its record rule hides from the caller, with the
// AccessError Odoo raises when such a record is read: a reset reads the users it acts on.
// Ids that do not exist are left to the caller's own checks.
func (s *Store) checkRule(ctx context.Context, caller int64, callCtx map[string]any,
	model string, ids []int64) error {
	visible, m, r, err := s.ruleVisible(ctx, caller, callCtx, model, ids)
	if err != nil || r.su {
		return err
	}
	rows := make(map[int64]*readRow, len(ids))
	for id, ok := range visible {
		rows[id] = &readRow{visible: ok}
	}
	existing := make([]int64, 0, len(ids))
	for _, id := range ids {
		if _, ok := visible[id]; ok {
			existing = append(existing, id)
		}
	}
	return s.checkRead(ctx, m, r, existing, rows)
}

// visibleIDs keeps the ids of model that its record rule lets the caller see, in order, as
// a search made by the caller would.
func (s *Store) visibleIDs(ctx context.Context, caller int64, callCtx map[string]any,
	model string, ids []int64) ([]int64, error) {
	visible, _, r, err := s.ruleVisible(ctx, caller, callCtx, model, ids)
	if err != nil {
		return nil, err
	}
	if r.su {
		return ids, nil
	}
	out := ids[:0:0]
	for _, id := range ids {
		if visible[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// ruleVisible maps each existing id to whether the record rule shows it to the caller, and
// returns the model and the caller as the rule saw them. For the superuser it reads nothing.
func (s *Store) ruleVisible(ctx context.Context, caller int64, callCtx map[string]any,
	model string, ids []int64) (map[int64]bool, *modelDef, reader, error) {
	cat, m, err := s.readModel(ctx, model)
	if err != nil {
		return nil, nil, reader{}, err
	}
	r, err := s.reader(ctx, caller, callCtx)
	if err != nil || r.su {
		return nil, m, r, err // the superuser is above the rules: nothing to read
	}
	rows, err := s.readRows(ctx, cat, m, r, uniqueIDs(ids), nil, false)
	if err != nil {
		return nil, nil, r, err
	}
	visible := make(map[int64]bool, len(rows))
	for id, row := range rows {
		visible[id] = row.visible
	}
	return visible, m, r, nil
}
