# Terraform targets, included by the main Makefile (`-include terraform/terraform.mk`).
# The main Makefile defines `build` (dist/<fn>.zip); plan and deploy depend on it.
TF_ENVS := dev staging prod

.PHONY: tf-tools tf-check tf-env plan deploy destroy smoke

tf-tools: ## Offline checks only: build/reuse terraform, tflint and the hashicorp/aws provider (Go; cached in ~/.cache/pulse/tf)
	scripts/tf/tools.sh install

tf-check: node_modules/.installed ## Terraform checks: fmt, validate (official provider; offline: PULSE_TF_PROVIDER_ARCHIVE or tf-tools mirror), tflint, checkov, wiring tests
	scripts/tf/check.sh

tf-env:
	@case "$(ENV)" in \
	  dev|staging|prod) ;; \
	  *) echo "error: ENV must be one of: $(TF_ENVS) (got '$(ENV)'). Example: make deploy ENV=dev" >&2; exit 2 ;; \
	esac

plan: tf-env build ## terraform plan of one environment (ENV=dev|staging|prod)
	scripts/tf/run.sh plan $(ENV)

deploy: tf-env build ## Bundle, then terraform apply of one environment (ENV=dev|staging|prod; AUTO_APPROVE=1 skips the prompt)
	scripts/tf/run.sh apply $(ENV)

destroy: tf-env ## Destroy one environment after typing its name (ENV=dev|staging|prod; unattended: CONFIRM_ENV=<env>)
	scripts/tf/run.sh destroy $(ENV)

smoke: tf-env node_modules/.installed ## After make deploy: seeded events through the deployed pipeline, PASS/FAIL per function with lag (ENV=...)
	npx tsx scripts/smoke.ts --env $(ENV) $(SMOKE_ARGS)
