CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE links (
	id VARCHAR(36) NOT NULL, 
	source_id VARCHAR(36) NOT NULL, 
	source_type VARCHAR(64) NOT NULL, 
	target_id VARCHAR(36) NOT NULL, 
	target_type VARCHAR(64) NOT NULL, 
	relation VARCHAR(64) NOT NULL, 
	weight FLOAT NOT NULL, 
	metadata JSON NOT NULL, 
	created_at DATETIME NOT NULL, position FLOAT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_links_edge UNIQUE (source_id, target_id, relation)
);
CREATE TABLE roots (
	id VARCHAR(36) NOT NULL, 
	path TEXT NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	status_message TEXT, 
	include_globs JSON NOT NULL, 
	exclude_globs JSON NOT NULL, 
	include_hidden BOOLEAN NOT NULL, 
	is_upload_target BOOLEAN NOT NULL, 
	last_scan_at DATETIME, 
	last_scan JSON, 
	created_at DATETIME NOT NULL, watch_status TEXT, owner_id VARCHAR(36) DEFAULT '00000000-0000-7000-8000-000000000001' NOT NULL, device BIGINT, 
	PRIMARY KEY (id), 
	UNIQUE (path)
);
CREATE TABLE users (
	id VARCHAR(36) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, password_hash TEXT, is_admin BOOLEAN DEFAULT 0 NOT NULL, disabled_at DATETIME, upload_quota BIGINT, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
CREATE TABLE assets (
	id VARCHAR(36) NOT NULL, 
	owner_id VARCHAR(36) NOT NULL, 
	root_id VARCHAR(36), 
	rel_path TEXT, 
	path_escaped BOOLEAN NOT NULL, 
	mtime_ns BIGINT, 
	inode BIGINT, 
	device BIGINT, 
	filename TEXT NOT NULL, 
	size BIGINT, 
	mime_type VARCHAR(255), 
	is_virtual BOOLEAN NOT NULL, 
	category VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	error_message TEXT, 
	visibility VARCHAR(16) NOT NULL, 
	storage_urn TEXT NOT NULL, 
	hash VARCHAR(64), 
	phash VARCHAR(32), 
	asset_type VARCHAR(16) NOT NULL, 
	thumbnail_urn TEXT, 
	thumbnails JSON NOT NULL, 
	width INTEGER, 
	height INTEGER, 
	duration FLOAT, 
	title TEXT, 
	description TEXT, 
	metadata JSON NOT NULL, 
	version INTEGER NOT NULL, 
	captured_at DATETIME, 
	timeline_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	deleted_at DATETIME, verified_at DATETIME, ctime_ns BIGINT, timeline_source VARCHAR(16), 
	PRIMARY KEY (id), 
	FOREIGN KEY(owner_id) REFERENCES users (id), 
	FOREIGN KEY(root_id) REFERENCES roots (id) ON DELETE CASCADE, 
	CONSTRAINT uq_assets_root_path UNIQUE (root_id, rel_path)
);
CREATE TABLE asset_steps (
	asset_id VARCHAR(36) NOT NULL, 
	step VARCHAR(64) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	version INTEGER NOT NULL, 
	message TEXT, 
	duration_ms FLOAT, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (asset_id, step), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE
);
CREATE TABLE asset_tags (
	asset_id VARCHAR(36) NOT NULL, 
	tag VARCHAR(200) NOT NULL, 
	PRIMARY KEY (asset_id, tag), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE
);
CREATE TABLE integrity_findings (
	id VARCHAR(36) NOT NULL, 
	asset_id VARCHAR(36) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	expected_hash VARCHAR(64), 
	actual_hash VARCHAR(64), 
	found_at DATETIME NOT NULL, 
	resolved_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE
);
CREATE TABLE phash_bands (
	asset_id VARCHAR(36) NOT NULL, 
	band INTEGER NOT NULL, 
	value INTEGER NOT NULL, 
	PRIMARY KEY (asset_id, band), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE
);
CREATE TABLE pipeline_leases (
	asset_id VARCHAR(36) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	owner VARCHAR(200), 
	token VARCHAR(36), 
	step VARCHAR(64), 
	attempts INTEGER NOT NULL, 
	kicked_at DATETIME NOT NULL, 
	started_at DATETIME, 
	expires_at DATETIME, 
	PRIMARY KEY (asset_id), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE
);
CREATE TABLE entities (
	id VARCHAR(36) NOT NULL, 
	type VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	metadata JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE "inherited_tags" (
	asset_id VARCHAR(36) NOT NULL, 
	tag VARCHAR(200) NOT NULL, 
	source_id VARCHAR(36) NOT NULL, 
	PRIMARY KEY (asset_id, tag, source_id)
);
CREATE TABLE root_members (
	root_id VARCHAR(36) NOT NULL, 
	user_id VARCHAR(36) NOT NULL, 
	can_write BOOLEAN DEFAULT 0 NOT NULL, 
	PRIMARY KEY (root_id, user_id), 
	FOREIGN KEY(root_id) REFERENCES roots (id) ON DELETE CASCADE, 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE api_tokens (
	id VARCHAR(36) NOT NULL, 
	user_id VARCHAR(36) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	scope VARCHAR(8) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_used_at DATETIME, 
	revoked_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	UNIQUE (token_hash)
);
CREATE TABLE sessions (
	id VARCHAR(36) NOT NULL, 
	user_id VARCHAR(36) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	UNIQUE (token_hash)
);
CREATE TABLE asset_grants (
	asset_id VARCHAR(36) NOT NULL, 
	user_id VARCHAR(36) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (asset_id, user_id), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE, 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE shares (
	id VARCHAR(36) NOT NULL, 
	token VARCHAR(64) NOT NULL, 
	asset_id VARCHAR(36) NOT NULL, 
	is_album BOOLEAN NOT NULL, 
	created_by VARCHAR(36) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME, 
	password_hash TEXT, 
	allow_download BOOLEAN DEFAULT 0 NOT NULL, 
	view_count INTEGER DEFAULT '0' NOT NULL, 
	revoked_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE, 
	FOREIGN KEY(created_by) REFERENCES users (id) ON DELETE CASCADE, 
	UNIQUE (token)
);
CREATE TABLE search_documents (
	doc_id INTEGER NOT NULL, 
	asset_id VARCHAR(36) NOT NULL, 
	name TEXT NOT NULL, 
	title TEXT NOT NULL, 
	tags TEXT NOT NULL, 
	folders TEXT NOT NULL, 
	description TEXT NOT NULL, 
	camera TEXT NOT NULL, 
	lens TEXT NOT NULL, 
	caption TEXT NOT NULL, 
	place TEXT NOT NULL, 
	labels TEXT NOT NULL, 
	people TEXT NOT NULL, 
	content TEXT NOT NULL, 
	extra TEXT NOT NULL, 
	substrings TEXT NOT NULL, 
	ext VARCHAR(16), 
	lat FLOAT, 
	lon FLOAT, 
	tsv TEXT, timeline_at DATETIME, 
	PRIMARY KEY (doc_id), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE, 
	UNIQUE (asset_id)
);
CREATE VIRTUAL TABLE search_fts USING fts5(name, title, tags, folders, description, camera, lens, caption, place, labels, people, content, extra, content='search_documents', content_rowid='doc_id', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE search_trigram USING fts5(substrings, content='search_documents', content_rowid='doc_id', tokenize='trigram');
CREATE TABLE asset_counts (
	root_key VARCHAR(36) NOT NULL, 
	asset_type VARCHAR(64) NOT NULL, 
	status VARCHAR(64) NOT NULL, 
	live INTEGER NOT NULL, 
	n BIGINT NOT NULL, 
	PRIMARY KEY (root_key, asset_type, status, live)
);
CREATE TABLE step_counts (
	step VARCHAR(64) NOT NULL, 
	status VARCHAR(64) NOT NULL, 
	n BIGINT NOT NULL, 
	PRIMARY KEY (step, status)
);
CREATE TABLE asset_count_deltas (
	id INTEGER NOT NULL, 
	root_key VARCHAR(36) NOT NULL, 
	asset_type VARCHAR(64) NOT NULL, 
	status VARCHAR(64) NOT NULL, 
	live INTEGER NOT NULL, 
	n INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE step_count_deltas (
	id INTEGER NOT NULL, 
	step VARCHAR(64) NOT NULL, 
	status VARCHAR(64) NOT NULL, 
	n INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE asset_edits (
	asset_id VARCHAR(36) NOT NULL, 
	version INTEGER NOT NULL, 
	edits JSON NOT NULL, 
	user_id VARCHAR(36), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (asset_id, version), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE
);
CREATE TABLE sidecar_files (
	root_id VARCHAR(36) NOT NULL, 
	rel_path TEXT NOT NULL, 
	size BIGINT NOT NULL, 
	mtime_ns BIGINT NOT NULL, 
	PRIMARY KEY (root_id, rel_path), 
	FOREIGN KEY(root_id) REFERENCES roots (id) ON DELETE CASCADE
);
CREATE TABLE preferred_copies (
	hash VARCHAR(64) NOT NULL, 
	asset_id VARCHAR(36) NOT NULL, 
	chosen_by VARCHAR(36), 
	chosen_at DATETIME NOT NULL, 
	PRIMARY KEY (hash), 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE
);
CREATE TABLE asset_vectors (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	asset_id VARCHAR(36) NOT NULL, 
	vector BLOB NOT NULL, 
	FOREIGN KEY(asset_id) REFERENCES assets (id) ON DELETE CASCADE, 
	UNIQUE (asset_id)
);
CREATE TABLE month_counts (
	month VARCHAR(7) NOT NULL, 
	asset_type VARCHAR(64) NOT NULL, 
	root_key VARCHAR(36) NOT NULL, 
	live INTEGER NOT NULL, 
	n BIGINT NOT NULL, 
	PRIMARY KEY (month, asset_type, root_key, live)
);
CREATE TABLE month_count_deltas (
	id INTEGER NOT NULL, 
	month VARCHAR(7) NOT NULL, 
	asset_type VARCHAR(64) NOT NULL, 
	root_key VARCHAR(36) NOT NULL, 
	live INTEGER NOT NULL, 
	n INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE processing_outcome_counts (
	step VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	n BIGINT NOT NULL, 
	PRIMARY KEY (step, version)
);
CREATE TABLE processing_outcome_count_deltas (
	id INTEGER NOT NULL, 
	step VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	n INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE failure_counts (
	id INTEGER NOT NULL, 
	root_id VARCHAR(36) NOT NULL, 
	step VARCHAR(64) NOT NULL, 
	message TEXT NOT NULL, 
	n BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE failure_count_deltas (
	id INTEGER NOT NULL, 
	root_id VARCHAR(36) NOT NULL, 
	step VARCHAR(64) NOT NULL, 
	message TEXT NOT NULL, 
	n INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE bulk_inserts (
	asset_id VARCHAR(36) NOT NULL, 
	PRIMARY KEY (asset_id)
);
CREATE INDEX ix_assets_hash ON assets (hash);
CREATE INDEX ix_assets_mime ON assets (mime_type);
CREATE INDEX ix_assets_status ON assets (status);
CREATE INDEX ix_assets_timeline ON assets (timeline_at, id);
CREATE INDEX ix_assets_type_timeline ON assets (asset_type, timeline_at, id);
CREATE INDEX ix_assets_scan_signature ON assets (root_id, rel_path, size, mtime_ns, inode) WHERE NOT (asset_type = 'collection' OR status NOT IN ('ready', 'processing') OR path_escaped);
CREATE INDEX ix_assets_exceptional ON assets (root_id) WHERE asset_type = 'collection' OR status NOT IN ('ready', 'processing') OR path_escaped;
CREATE INDEX ix_asset_steps_step_status ON asset_steps (step, status);
CREATE INDEX ix_asset_tags_tag ON asset_tags (tag, asset_id);
CREATE INDEX ix_integrity_findings_asset ON integrity_findings (asset_id, resolved_at);
CREATE INDEX ix_phash_bands_lookup ON phash_bands (band, value);
CREATE INDEX ix_pipeline_leases_state ON pipeline_leases (state, expires_at);
CREATE INDEX ix_pipeline_leases_token ON pipeline_leases (token);
CREATE INDEX ix_asset_steps_updated ON asset_steps (updated_at);
CREATE INDEX ix_links_target ON links (target_id, relation, source_id);
CREATE INDEX ix_links_source ON links (source_id, relation, target_id);
CREATE INDEX ix_links_position ON links (source_id, relation, position) WHERE position IS NOT NULL;
CREATE INDEX ix_entities_type_name ON entities (type, name);
CREATE INDEX ix_inherited_tags_tag ON inherited_tags (tag, asset_id);
CREATE INDEX ix_inherited_tags_source ON inherited_tags (source_id, tag);
CREATE INDEX ix_root_members_user ON root_members (user_id);
CREATE INDEX ix_asset_grants_user ON asset_grants (user_id);
CREATE INDEX ix_assets_owner ON assets (owner_id);
CREATE INDEX ix_search_documents_ext ON search_documents (ext);
CREATE INDEX ix_search_documents_geo ON search_documents (lat, lon);
CREATE INDEX ix_search_documents_tsv ON search_documents (tsv) WHERE 0;
CREATE INDEX ix_search_documents_substrings ON search_documents (substrings) WHERE 0;
CREATE INDEX ix_asset_steps_failed ON asset_steps (asset_id) WHERE status = 'failed';
CREATE INDEX ix_assets_favorite ON assets ((json_extract(metadata, '$.gallery.favorite')));
CREATE INDEX ix_assets_rating ON assets ((json_extract(metadata, '$.gallery.rating')));
CREATE INDEX ix_preferred_copies_asset ON preferred_copies (asset_id);
CREATE INDEX ix_assets_months ON assets (timeline_at, timeline_source, asset_type, deleted_at, owner_id, visibility, root_id);
CREATE INDEX ix_links_duplicates ON links (source_id, target_id) WHERE relation = 'duplicate_of';
CREATE INDEX ix_assets_set_aside ON assets (id) WHERE deleted_at IS NOT NULL OR asset_type = 'proxy';
CREATE UNIQUE INDEX ux_failure_counts_key ON failure_counts (step, message, root_id);
CREATE INDEX ix_asset_steps_failed_messages ON asset_steps (step, message, asset_id) WHERE status = 'failed';
CREATE INDEX ix_search_documents_timeline ON search_documents (timeline_at) WHERE 0;
CREATE INDEX ix_search_documents_holder_tsv ON search_documents (tsv) WHERE 0;
CREATE INDEX ix_search_documents_holder_substrings ON search_documents (substrings) WHERE 0;
CREATE TRIGGER search_documents_timeline AFTER UPDATE OF timeline_at ON assets WHEN old.timeline_at IS NOT new.timeline_at BEGIN UPDATE search_documents SET timeline_at = new.timeline_at WHERE asset_id = new.id; END;
CREATE TRIGGER asset_counts_ai AFTER INSERT ON assets WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.id) BEGIN INSERT INTO asset_counts (root_key, asset_type, status, live, n) VALUES (coalesce(new.root_id, ''), new.asset_type, new.status, CASE WHEN new.deleted_at IS NULL THEN 1 ELSE 0 END, 1) ON CONFLICT (root_key, asset_type, status, live) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER asset_counts_ad AFTER DELETE ON assets WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = old.id) BEGIN INSERT INTO asset_counts (root_key, asset_type, status, live, n) VALUES (coalesce(old.root_id, ''), old.asset_type, old.status, CASE WHEN old.deleted_at IS NULL THEN 1 ELSE 0 END, -1) ON CONFLICT (root_key, asset_type, status, live) DO UPDATE SET n = n + -1; END;
CREATE TRIGGER asset_counts_au AFTER UPDATE OF root_id, asset_type, status, deleted_at ON assets WHEN ((coalesce(old.root_id, '')) IS NOT (coalesce(new.root_id, '')) OR (old.asset_type) IS NOT (new.asset_type) OR (old.status) IS NOT (new.status) OR (CASE WHEN old.deleted_at IS NULL THEN 1 ELSE 0 END) IS NOT (CASE WHEN new.deleted_at IS NULL THEN 1 ELSE 0 END)) AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.id) BEGIN INSERT INTO asset_counts (root_key, asset_type, status, live, n) VALUES (coalesce(old.root_id, ''), old.asset_type, old.status, CASE WHEN old.deleted_at IS NULL THEN 1 ELSE 0 END, -1) ON CONFLICT (root_key, asset_type, status, live) DO UPDATE SET n = n + -1; INSERT INTO asset_counts (root_key, asset_type, status, live, n) VALUES (coalesce(new.root_id, ''), new.asset_type, new.status, CASE WHEN new.deleted_at IS NULL THEN 1 ELSE 0 END, 1) ON CONFLICT (root_key, asset_type, status, live) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER month_counts_ai AFTER INSERT ON assets WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.id) BEGIN INSERT INTO month_counts (month, asset_type, root_key, live, n) VALUES (CASE WHEN new.timeline_source = 'none' THEN '' ELSE coalesce(substr(new.timeline_at, 1, 7), '') END, new.asset_type, coalesce(new.root_id, ''), CASE WHEN new.deleted_at IS NULL THEN 1 ELSE 0 END, 1) ON CONFLICT (month, asset_type, root_key, live) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER month_counts_ad AFTER DELETE ON assets WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = old.id) BEGIN INSERT INTO month_counts (month, asset_type, root_key, live, n) VALUES (CASE WHEN old.timeline_source = 'none' THEN '' ELSE coalesce(substr(old.timeline_at, 1, 7), '') END, old.asset_type, coalesce(old.root_id, ''), CASE WHEN old.deleted_at IS NULL THEN 1 ELSE 0 END, -1) ON CONFLICT (month, asset_type, root_key, live) DO UPDATE SET n = n + -1; END;
CREATE TRIGGER month_counts_au AFTER UPDATE OF timeline_at, timeline_source, asset_type, root_id, deleted_at ON assets WHEN ((CASE WHEN old.timeline_source = 'none' THEN '' ELSE coalesce(substr(old.timeline_at, 1, 7), '') END) IS NOT (CASE WHEN new.timeline_source = 'none' THEN '' ELSE coalesce(substr(new.timeline_at, 1, 7), '') END) OR (old.asset_type) IS NOT (new.asset_type) OR (coalesce(old.root_id, '')) IS NOT (coalesce(new.root_id, '')) OR (CASE WHEN old.deleted_at IS NULL THEN 1 ELSE 0 END) IS NOT (CASE WHEN new.deleted_at IS NULL THEN 1 ELSE 0 END)) AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.id) BEGIN INSERT INTO month_counts (month, asset_type, root_key, live, n) VALUES (CASE WHEN old.timeline_source = 'none' THEN '' ELSE coalesce(substr(old.timeline_at, 1, 7), '') END, old.asset_type, coalesce(old.root_id, ''), CASE WHEN old.deleted_at IS NULL THEN 1 ELSE 0 END, -1) ON CONFLICT (month, asset_type, root_key, live) DO UPDATE SET n = n + -1; INSERT INTO month_counts (month, asset_type, root_key, live, n) VALUES (CASE WHEN new.timeline_source = 'none' THEN '' ELSE coalesce(substr(new.timeline_at, 1, 7), '') END, new.asset_type, coalesce(new.root_id, ''), CASE WHEN new.deleted_at IS NULL THEN 1 ELSE 0 END, 1) ON CONFLICT (month, asset_type, root_key, live) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER step_counts_ai AFTER INSERT ON asset_steps WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.asset_id) BEGIN INSERT INTO step_counts (step, status, n) VALUES (new.step, new.status, 1) ON CONFLICT (step, status) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER step_counts_ad AFTER DELETE ON asset_steps WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = old.asset_id) BEGIN INSERT INTO step_counts (step, status, n) VALUES (old.step, old.status, -1) ON CONFLICT (step, status) DO UPDATE SET n = n + -1; END;
CREATE TRIGGER step_counts_au AFTER UPDATE OF step, status ON asset_steps WHEN ((old.step) IS NOT (new.step) OR (old.status) IS NOT (new.status)) AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.asset_id) BEGIN INSERT INTO step_counts (step, status, n) VALUES (old.step, old.status, -1) ON CONFLICT (step, status) DO UPDATE SET n = n + -1; INSERT INTO step_counts (step, status, n) VALUES (new.step, new.status, 1) ON CONFLICT (step, status) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER processing_outcomes_ai AFTER INSERT ON asset_steps WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.asset_id) BEGIN INSERT INTO processing_outcome_counts (step, version, n) SELECT new.step, new.version, 1 WHERE EXISTS (SELECT 1 FROM assets WHERE id = new.asset_id AND status = 'processing' AND deleted_at IS NULL) ON CONFLICT (step, version) DO UPDATE SET n = n + excluded.n; END;
CREATE TRIGGER processing_outcomes_ad AFTER DELETE ON asset_steps WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = old.asset_id) BEGIN INSERT INTO processing_outcome_counts (step, version, n) SELECT old.step, old.version, -1 WHERE EXISTS (SELECT 1 FROM assets WHERE id = old.asset_id AND status = 'processing' AND deleted_at IS NULL) ON CONFLICT (step, version) DO UPDATE SET n = n + excluded.n; END;
CREATE TRIGGER processing_outcomes_au AFTER UPDATE OF asset_id, step, version ON asset_steps WHEN (old.asset_id IS NOT new.asset_id OR old.step IS NOT new.step OR old.version IS NOT new.version) AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.asset_id) BEGIN INSERT INTO processing_outcome_counts (step, version, n) SELECT old.step, old.version, -1 WHERE EXISTS (SELECT 1 FROM assets WHERE id = old.asset_id AND status = 'processing' AND deleted_at IS NULL) ON CONFLICT (step, version) DO UPDATE SET n = n + excluded.n; INSERT INTO processing_outcome_counts (step, version, n) SELECT new.step, new.version, 1 WHERE EXISTS (SELECT 1 FROM assets WHERE id = new.asset_id AND status = 'processing' AND deleted_at IS NULL) ON CONFLICT (step, version) DO UPDATE SET n = n + excluded.n; END;
CREATE TRIGGER failure_counts_ai AFTER INSERT ON asset_steps WHEN (new.status = 'failed') AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.asset_id) BEGIN INSERT INTO failure_counts (root_id, step, message, n) SELECT root_id, new.step, coalesce(new.message, ''), 1 FROM assets WHERE id = new.asset_id AND root_id IS NOT NULL AND deleted_at IS NULL AND new.status = 'failed' ON CONFLICT (step, message, root_id) DO UPDATE SET n = n + excluded.n; END;
CREATE TRIGGER failure_counts_ad AFTER DELETE ON asset_steps WHEN (old.status = 'failed') AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = old.asset_id) BEGIN INSERT INTO failure_counts (root_id, step, message, n) SELECT root_id, old.step, coalesce(old.message, ''), -1 FROM assets WHERE id = old.asset_id AND root_id IS NOT NULL AND deleted_at IS NULL AND old.status = 'failed' ON CONFLICT (step, message, root_id) DO UPDATE SET n = n + excluded.n; DELETE FROM failure_counts WHERE step = old.step AND message = coalesce(old.message, '') AND n = 0; END;
CREATE TRIGGER failure_counts_au AFTER UPDATE OF asset_id, step, status, message ON asset_steps WHEN ((old.status = 'failed' OR new.status = 'failed') AND (old.asset_id IS NOT new.asset_id OR old.step IS NOT new.step OR old.status IS NOT new.status OR old.message IS NOT new.message)) AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.asset_id) BEGIN INSERT INTO failure_counts (root_id, step, message, n) SELECT root_id, old.step, coalesce(old.message, ''), -1 FROM assets WHERE id = old.asset_id AND root_id IS NOT NULL AND deleted_at IS NULL AND old.status = 'failed' ON CONFLICT (step, message, root_id) DO UPDATE SET n = n + excluded.n; INSERT INTO failure_counts (root_id, step, message, n) SELECT root_id, new.step, coalesce(new.message, ''), 1 FROM assets WHERE id = new.asset_id AND root_id IS NOT NULL AND deleted_at IS NULL AND new.status = 'failed' ON CONFLICT (step, message, root_id) DO UPDATE SET n = n + excluded.n; DELETE FROM failure_counts WHERE step = old.step AND message = coalesce(old.message, '') AND n = 0; END;
CREATE TRIGGER processing_outcomes_file_au AFTER UPDATE OF status, deleted_at ON assets WHEN (CASE WHEN old.status = 'processing' AND old.deleted_at IS NULL THEN 1 ELSE 0 END IS NOT CASE WHEN new.status = 'processing' AND new.deleted_at IS NULL THEN 1 ELSE 0 END) AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.id) BEGIN INSERT INTO processing_outcome_counts (step, version, n) SELECT step, version, CASE WHEN CASE WHEN new.status = 'processing' AND new.deleted_at IS NULL THEN 1 ELSE 0 END = 1 THEN 1 ELSE -1 END FROM asset_steps WHERE asset_id = new.id ON CONFLICT (step, version) DO UPDATE SET n = n + excluded.n; END;
CREATE TRIGGER processing_outcomes_file_bd BEFORE DELETE ON assets WHEN (CASE WHEN old.status = 'processing' AND old.deleted_at IS NULL THEN 1 ELSE 0 END = 1) AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = old.id) BEGIN INSERT INTO processing_outcome_counts (step, version, n) SELECT step, version, -1 FROM asset_steps WHERE asset_id = old.id ON CONFLICT (step, version) DO UPDATE SET n = n + excluded.n; END;
CREATE TRIGGER failure_counts_file_au AFTER UPDATE OF root_id, deleted_at ON assets WHEN (CASE WHEN old.root_id IS NOT NULL AND old.deleted_at IS NULL THEN 1 ELSE 0 END IS NOT CASE WHEN new.root_id IS NOT NULL AND new.deleted_at IS NULL THEN 1 ELSE 0 END OR old.root_id IS NOT new.root_id) AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.id) BEGIN INSERT INTO failure_counts (root_id, step, message, n) SELECT old.root_id, step, coalesce(message, ''), -1 FROM asset_steps WHERE asset_id = old.id AND status = 'failed' AND CASE WHEN old.root_id IS NOT NULL AND old.deleted_at IS NULL THEN 1 ELSE 0 END = 1 ON CONFLICT (step, message, root_id) DO UPDATE SET n = n + excluded.n; INSERT INTO failure_counts (root_id, step, message, n) SELECT new.root_id, step, coalesce(message, ''), 1 FROM asset_steps WHERE asset_id = new.id AND status = 'failed' AND CASE WHEN new.root_id IS NOT NULL AND new.deleted_at IS NULL THEN 1 ELSE 0 END = 1 ON CONFLICT (step, message, root_id) DO UPDATE SET n = n + excluded.n; DELETE FROM failure_counts WHERE n = 0 AND root_id = old.root_id AND (step, message) IN (SELECT step, coalesce(message, '') FROM asset_steps WHERE asset_id = old.id AND status = 'failed'); END;
CREATE TRIGGER failure_counts_file_bd BEFORE DELETE ON assets WHEN (CASE WHEN old.root_id IS NOT NULL AND old.deleted_at IS NULL THEN 1 ELSE 0 END = 1) AND NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = old.id) BEGIN INSERT INTO failure_counts (root_id, step, message, n) SELECT old.root_id, step, coalesce(message, ''), -1 FROM asset_steps WHERE asset_id = old.id AND status = 'failed' AND CASE WHEN old.root_id IS NOT NULL AND old.deleted_at IS NULL THEN 1 ELSE 0 END = 1 ON CONFLICT (step, message, root_id) DO UPDATE SET n = n + excluded.n; DELETE FROM failure_counts WHERE n = 0 AND root_id = old.root_id AND (step, message) IN (SELECT step, coalesce(message, '') FROM asset_steps WHERE asset_id = old.id AND status = 'failed'); END;
CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.asset_id) BEGIN INSERT INTO search_fts (rowid, name, title, tags, folders, description, camera, lens, caption, place, labels, people, content, extra) VALUES (new.doc_id, new.name, new.title, new.tags, new.folders, new.description, new.camera, new.lens, new.caption, new.place, new.labels, new.people, new.content, new.extra); INSERT INTO search_trigram (rowid, substrings) VALUES (new.doc_id, new.substrings); END;
CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = old.asset_id) BEGIN INSERT INTO search_fts (search_fts, rowid, name, title, tags, folders, description, camera, lens, caption, place, labels, people, content, extra) VALUES ('delete', old.doc_id, old.name, old.title, old.tags, old.folders, old.description, old.camera, old.lens, old.caption, old.place, old.labels, old.people, old.content, old.extra); INSERT INTO search_trigram (search_trigram, rowid, substrings) VALUES ('delete', old.doc_id, old.substrings); END;
CREATE TRIGGER search_documents_au AFTER UPDATE OF name, title, tags, folders, description, camera, lens, caption, place, labels, people, content, extra, substrings ON search_documents WHEN NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.asset_id) BEGIN INSERT INTO search_fts (search_fts, rowid, name, title, tags, folders, description, camera, lens, caption, place, labels, people, content, extra) VALUES ('delete', old.doc_id, old.name, old.title, old.tags, old.folders, old.description, old.camera, old.lens, old.caption, old.place, old.labels, old.people, old.content, old.extra); INSERT INTO search_trigram (search_trigram, rowid, substrings) VALUES ('delete', old.doc_id, old.substrings); INSERT INTO search_fts (rowid, name, title, tags, folders, description, camera, lens, caption, place, labels, people, content, extra) VALUES (new.doc_id, new.name, new.title, new.tags, new.folders, new.description, new.camera, new.lens, new.caption, new.place, new.labels, new.people, new.content, new.extra); INSERT INTO search_trigram (rowid, substrings) VALUES (new.doc_id, new.substrings); END;
INSERT INTO "alembic_version" ("version_num") VALUES ('0022_root_device');
INSERT INTO "users" ("id", "name", "created_at", "password_hash", "is_admin", "disabled_at", "upload_quota") VALUES ('00000000-0000-7000-8000-000000000001', 'owner', strftime('%Y-%m-%d %H:%M:%f000', 'now'), NULL, 0, NULL, NULL);
