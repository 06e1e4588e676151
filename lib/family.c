/* family.c - the table of model families: one line per family. */
#include <string.h>

#include "model.h"

extern const struct aiops_family aiops_fam_ae;
extern const struct aiops_family aiops_fam_arima;
extern const struct aiops_family aiops_fam_holtwinters;
extern const struct aiops_family aiops_fam_iforest;
extern const struct aiops_family aiops_fam_kmeans;
extern const struct aiops_family aiops_fam_mahal;
extern const struct aiops_family aiops_fam_pca;
extern const struct aiops_family aiops_fam_ridge;
extern const struct aiops_family aiops_fam_zscore;

static const struct aiops_family *const table[] = {
	&aiops_fam_zscore,
	&aiops_fam_pca,
	&aiops_fam_mahal,
	&aiops_fam_iforest,
	&aiops_fam_kmeans,
	&aiops_fam_ae,
	&aiops_fam_arima,
	&aiops_fam_holtwinters,
	&aiops_fam_ridge,
	NULL
};

const struct aiops_family *const *
aiops_families(void)
{
	return table;
}

const struct aiops_family *
aiops_family_find(const char *name)
{
	for (size_t i = 0; table[i]; i++)
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
	return NULL;
}
