;;; emacs-jsonrpc.el --- credit-rpc from Emacs's own jsonrpc.el, as a plugin would use it.
;; Run: CREDIT_RPC_BIN=.build/debug/credit-rpc emacs --batch -l Tests/clients/emacs-jsonrpc.el
;; Exits 0 when every check holds.  Methods are keywords (:listCourses): jsonrpc.el 1.0.14
;; (Emacs 28) sends a method given as a string as null.
(require 'jsonrpc)
(require 'cl-lib)

(defun check (what ok)
  (unless ok (error "check failed: %s" what)))

(let* ((bin (or (getenv "CREDIT_RPC_BIN") "credit-rpc"))
       (conn (jsonrpc-process-connection
              :name "credit-rpc"
              :process (make-process
                        :name "credit-rpc" :command (list bin "--db" ":memory:")
                        :connection-type 'pipe :coding 'utf-8-emacs-unix :noquery t
                        :stderr (get-buffer-create "*credit-rpc stderr*")))))
  (condition-case err
      (progn
        ;; A handful of calls.
        (check "no courses" (equal (plist-get (jsonrpc-request conn :listCourses nil) :courses) []))
        (jsonrpc-request conn :createLearner
                         '(:learnerId "ada" :fullName "Ada Lovelace" :email "ada@example.org"
                                      :country "GB"))
        (let ((dashboard (jsonrpc-request conn :getDashboard '(:learnerId "ada"))))
          (check "dashboard of ada" (equal (plist-get dashboard :learnerId) "ada")))
        (condition-case e
            (progn (jsonrpc-request conn :getDashboard '(:learnerId "ghost"))
                   (error "an unknown learner was found"))
          (jsonrpc-error
           (let ((code (alist-get 'jsonrpc-error-code (cdr e)))
                 (data (alist-get 'jsonrpc-error-data (cdr e))))
             (check "code -32001" (equal code -32001))
             (check "reason learner_not_found" (equal (plist-get data :reason) "learner_not_found")))))
        ;; 100 requests in a row.
        (dotimes (i 100)
          (let ((r (jsonrpc-request conn :getDashboard '(:learnerId "ada"))))
            (check (format "request %d" i) (equal (plist-get r :learnerId) "ada"))))
        (jsonrpc-shutdown conn)
        (princ "emacs jsonrpc.el: ok\n")
        (kill-emacs 0))
    (error (princ (format "emacs jsonrpc.el: %S\n" err))
           (kill-emacs 1))))
