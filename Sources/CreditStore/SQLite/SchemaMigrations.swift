import SQLite

/// The versioned schema. Times are Unix seconds (INTEGER); money is integer cents. Enum checks are
/// written as OR chains: SQLite builds a throwaway B-tree per row for `IN` lists of three or more.
/// Never edit a released migration: add a new one.
public enum SchemaMigrations {
  public static let all: [Migration] = [v1, v2, v3]

  public static let migrator = Migrator(all)

  /// `PRAGMA application_id` of a credit-rpc database ("CRPC"), set by the first migration.
  public static let applicationId: Int64 = 0x4352_5043

  static let v1 = Migration(
    version: 1, name: "initial",
    sql: """
      PRAGMA application_id = 1129467971;

      CREATE TABLE courses (
        course_id TEXT PRIMARY KEY,
        org TEXT NOT NULL, number TEXT NOT NULL, run TEXT NOT NULL,
        title TEXT NOT NULL,
        starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),
        passing_grade REAL NOT NULL CHECK (passing_grade BETWEEN 0 AND 1),
        verified_price_cents INTEGER CHECK (verified_price_cents >= 0),
        verified_currency TEXT,
        purchase_window_days INTEGER NOT NULL CHECK (purchase_window_days >= 0),
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE providers (
        provider_id TEXT PRIMARY KEY,
        display_name TEXT NOT NULL, url TEXT NOT NULL, status_url TEXT, description TEXT,
        fulfillment_instructions TEXT,
        requires_additional_steps INTEGER NOT NULL CHECK (requires_additional_steps IN (0, 1)),
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE provider_secrets (
        provider_id TEXT NOT NULL REFERENCES providers(provider_id),
        position INTEGER NOT NULL,
        secret TEXT NOT NULL,
        PRIMARY KEY (provider_id, position)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE offers (
        course_id TEXT NOT NULL REFERENCES courses(course_id),
        provider_id TEXT NOT NULL REFERENCES providers(provider_id),
        price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
        currency TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (course_id, provider_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX offers_by_provider ON offers(provider_id);

      CREATE TABLE exams (
        course_id TEXT NOT NULL REFERENCES courses(course_id),
        exam_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        time_limit_minutes INTEGER NOT NULL CHECK (time_limit_minutes > 0),
        passing_score REAL NOT NULL CHECK (passing_score BETWEEN 0 AND 1),
        proctored INTEGER NOT NULL CHECK (proctored IN (0, 1)),
        PRIMARY KEY (course_id, exam_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE requirements (
        course_id TEXT NOT NULL REFERENCES courses(course_id),
        requirement_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind = 'grade' OR kind = 'proctoredExam' OR kind = 'reverification'),
        display_name TEXT NOT NULL,
        position INTEGER NOT NULL,
        min_grade REAL CHECK (min_grade BETWEEN 0 AND 1),
        exam_id TEXT,
        checkpoint_id TEXT,
        PRIMARY KEY (course_id, position),
        UNIQUE (course_id, requirement_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE learners (
        learner_id TEXT PRIMARY KEY,
        full_name TEXT NOT NULL, email TEXT NOT NULL, country TEXT NOT NULL, mailing_address TEXT,
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE enrollments (
        learner_id TEXT NOT NULL REFERENCES learners(learner_id),
        course_id TEXT NOT NULL REFERENCES courses(course_id),
        mode TEXT NOT NULL CHECK (mode IN ('verified', 'audit')),
        enrolled_at INTEGER NOT NULL,
        eligibility TEXT NOT NULL DEFAULT 'notYetEligible'
          CHECK (eligibility = 'eligible' OR eligibility = 'notYetEligible' OR eligibility = 'ineligible'),
        eligible_at INTEGER,
        deadline_override INTEGER,
        course_grade REAL,
        credit_grade REAL,
        PRIMARY KEY (learner_id, course_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX enrollments_by_course ON enrollments(course_id);

      CREATE TABLE requirement_status (
        learner_id TEXT NOT NULL,
        course_id TEXT NOT NULL,
        requirement_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status = 'pending' OR status = 'submitted' OR status = 'satisfied' OR status = 'failed' OR status = 'declined'),
        reason TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (learner_id, course_id, requirement_id),
        FOREIGN KEY (learner_id, course_id) REFERENCES enrollments(learner_id, course_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX requirement_status_by_course ON requirement_status(course_id, requirement_id);

      CREATE TABLE verifications (
        verification_id TEXT PRIMARY KEY,
        learner_id TEXT NOT NULL REFERENCES learners(learner_id),
        kind TEXT NOT NULL CHECK (kind IN ('initial', 'reverification')),
        course_id TEXT,
        checkpoint_id TEXT,
        status TEXT NOT NULL CHECK (status = 'submitted' OR status = 'approved' OR status = 'denied'),
        submitted_at INTEGER NOT NULL,
        reviewed_at INTEGER,
        expires_at INTEGER,
        reason TEXT,
        photo_id_sha256 TEXT,
        photo_id_bytes INTEGER,
        face_sha256 TEXT NOT NULL,
        face_bytes INTEGER NOT NULL,
        seq INTEGER NOT NULL UNIQUE,
        CHECK ((kind = 'initial') = (course_id IS NULL))
      ) STRICT;
      CREATE INDEX verifications_by_learner ON verifications(learner_id, kind, course_id, checkpoint_id);

      CREATE TABLE exam_attempts (
        attempt_id TEXT PRIMARY KEY,
        learner_id TEXT NOT NULL,
        course_id TEXT NOT NULL,
        exam_id TEXT NOT NULL,
        proctored INTEGER NOT NULL CHECK (proctored IN (0, 1)),
        status TEXT NOT NULL CHECK (status = 'started' OR status = 'submitted' OR status = 'verified' OR status = 'rejected' OR status = 'error'),
        started_at INTEGER NOT NULL,
        deadline INTEGER NOT NULL,
        submitted_at INTEGER,
        timed_out INTEGER NOT NULL DEFAULT 0 CHECK (timed_out IN (0, 1)),
        review TEXT CHECK (review = 'clean' OR review = 'rulesViolation' OR review = 'suspicious' OR review = 'notReviewed'),
        review_comment TEXT,
        reviewed_at INTEGER,
        current INTEGER NOT NULL DEFAULT 1 CHECK (current IN (0, 1)),
        seq INTEGER NOT NULL UNIQUE,
        FOREIGN KEY (learner_id, course_id) REFERENCES enrollments(learner_id, course_id),
        FOREIGN KEY (course_id, exam_id) REFERENCES exams(course_id, exam_id)
      ) STRICT;
      CREATE UNIQUE INDEX exam_attempts_current ON exam_attempts(learner_id, course_id, exam_id) WHERE current = 1;

      CREATE TABLE exam_scores (
        learner_id TEXT NOT NULL,
        course_id TEXT NOT NULL,
        exam_id TEXT NOT NULL,
        score REAL NOT NULL CHECK (score BETWEEN 0 AND 1),
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (learner_id, course_id, exam_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE exam_time_grants (
        learner_id TEXT NOT NULL,
        course_id TEXT NOT NULL,
        exam_id TEXT NOT NULL,
        extra_minutes INTEGER NOT NULL CHECK (extra_minutes >= 0),
        PRIMARY KEY (learner_id, course_id, exam_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE orders (
        order_id TEXT PRIMARY KEY,
        learner_id TEXT NOT NULL REFERENCES learners(learner_id),
        course_id TEXT NOT NULL REFERENCES courses(course_id),
        provider_id TEXT NOT NULL REFERENCES providers(provider_id),
        amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
        currency TEXT NOT NULL,
        payment_method TEXT NOT NULL CHECK (payment_method IN ('card', 'paypal')),
        purchased_at INTEGER NOT NULL,
        idempotency_key TEXT NOT NULL,
        params_digest TEXT NOT NULL,
        complete_parameters TEXT,
        seq INTEGER NOT NULL UNIQUE,
        UNIQUE (learner_id, idempotency_key)
      ) STRICT;

      CREATE TABLE credit_requests (
        request_id TEXT PRIMARY KEY,
        learner_id TEXT NOT NULL,
        course_id TEXT NOT NULL,
        provider_id TEXT NOT NULL REFERENCES providers(provider_id),
        order_id TEXT NOT NULL REFERENCES orders(order_id),
        status TEXT NOT NULL CHECK (status = 'pending' OR status = 'approved' OR status = 'rejected'),
        created_at INTEGER NOT NULL,
        decided_at INTEGER,
        UNIQUE (learner_id, course_id),
        FOREIGN KEY (learner_id, course_id) REFERENCES enrollments(learner_id, course_id)
      ) STRICT;
      CREATE INDEX credit_requests_by_provider ON credit_requests(provider_id);

      CREATE TABLE notifications (
        notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
        learner_id TEXT NOT NULL REFERENCES learners(learner_id),
        course_id TEXT,
        kind TEXT NOT NULL CHECK (kind = 'creditEligible' OR kind = 'purchaseReceipt' OR kind = 'creditDecision'),
        to_address TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX notifications_by_learner ON notifications(learner_id, notification_id);

      CREATE TABLE events (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        learner_id TEXT NOT NULL,
        course_id TEXT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        requirement_id TEXT,
        from_value TEXT,
        to_value TEXT,
        detail TEXT
      ) STRICT;
      CREATE INDEX events_by_learner ON events(learner_id, course_id, event_id);
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;

      CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      """)

  /// Lookups that scanned a table growing with the data: a purchase's answer joins its credit
  /// request by order (every purchase read every credit request), and the attempts that ran out of
  /// time are looked up per learner and course on every settle (the only index was partial).
  static let v2 = Migration(
    version: 2, name: "lookup-indexes",
    sql: """
      CREATE INDEX credit_requests_by_order ON credit_requests(order_id);
      CREATE INDEX exam_attempts_by_learner ON exam_attempts(learner_id, course_id, status);
      """)

  /// The operators' side: the outbox's delivery mark, a stable order for the providers' queues
  /// (the order's sequence number), and indexes for the filters of the list methods.
  static let v3 = Migration(
    version: 3, name: "operators",
    sql: """
      ALTER TABLE notifications ADD COLUMN sent_at INTEGER;
      CREATE INDEX notifications_unsent ON notifications(notification_id) WHERE sent_at IS NULL;

      ALTER TABLE credit_requests ADD COLUMN seq INTEGER;
      UPDATE credit_requests SET seq = (SELECT o.seq FROM orders o WHERE o.order_id = credit_requests.order_id);
      CREATE UNIQUE INDEX credit_requests_by_seq ON credit_requests(seq);
      DROP INDEX credit_requests_by_provider;
      CREATE INDEX credit_requests_by_provider ON credit_requests(provider_id, seq);
      CREATE INDEX credit_requests_by_course ON credit_requests(course_id, seq);
      CREATE INDEX credit_requests_by_status ON credit_requests(status, seq);

      CREATE INDEX enrollments_by_course_eligibility ON enrollments(course_id, eligibility, learner_id);
      """)
}
