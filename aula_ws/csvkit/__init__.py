"""The CSV kit both file pipelines (statistics import, sync) use: reading records with their
line numbers and raw text (reader), batching (batches), the journal or report and the
rejects or tryback file (report). The pure pieces are in aula_ws/domain/csv_rows.py."""
