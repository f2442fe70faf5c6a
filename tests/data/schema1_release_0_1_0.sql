-- A schema-1 database written by surrogate-nas 0.1.0 (commit 768282f): seed -n 3, a tabular
-- search 'tab1' (rs, 6 trials) and a live search 'live1' (rs, 4 trainings), one cached feature.
-- Made with sqlite3's .dump; tests/core/test_migrations.py upgrades it to the current schema.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value VARCHAR(255) NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO meta VALUES('schema_version','1');
CREATE TABLE architectures (
	id INTEGER NOT NULL, 
	space VARCHAR(32) NOT NULL, 
	arch VARCHAR(255) NOT NULL, 
	canonical_key VARCHAR(512) NOT NULL, 
	encoding JSON NOT NULL, 
	params_ref BIGINT, 
	flops_ref BIGINT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_architectures_space_arch UNIQUE (space, arch)
);
INSERT INTO architectures VALUES(1,'nb201','|avg_pool_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|','((0)@avg_pool_3x3)@avg_pool_3x3+((0)@avg_pool_3x3+(0)@nor_conv_3x3)@nor_conv_1x1+(0)@nor_conv_1x1','[0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0]',372346,51036810);
INSERT INTO architectures VALUES(2,'nb201','|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|','(((0)@avg_pool_3x3)@nor_conv_1x1+(0)@nor_conv_3x3)@nor_conv_1x1+((0)@avg_pool_3x3)@avg_pool_3x3+(0)@nor_conv_1x1','[0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0]',400346,54968970);
INSERT INTO architectures VALUES(3,'nb201','|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|','#+(((0)@nor_conv_3x3)@nor_conv_1x1+(0)@nor_conv_3x3)@nor_conv_1x1+(0)@avg_pool_3x3','[0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]',615386,86426250);
INSERT INTO architectures VALUES(4,'nb201','|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|','#+(((0)@avg_pool_3x3)@nor_conv_1x1+(0)@nor_conv_1x1)@nor_conv_3x3+((0)@avg_pool_3x3)@nor_conv_3x3','[0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]',615386,86426250);
INSERT INTO architectures VALUES(5,'nb201','|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|avg_pool_3x3~1|avg_pool_3x3~2|','#+(((0)@nor_conv_3x3)@avg_pool_3x3+(0)@nor_conv_3x3)@avg_pool_3x3+((0)@nor_conv_3x3)@avg_pool_3x3','[0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]',559386,78561930);
INSERT INTO architectures VALUES(6,'nb201','|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|avg_pool_3x3~1|nor_conv_3x3~2|','(((0)@nor_conv_3x3)@nor_conv_1x1+0)@nor_conv_3x3+((0)@nor_conv_3x3)@avg_pool_3x3+(0)@avg_pool_3x3','[0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]',587386,82494090);
INSERT INTO architectures VALUES(7,'nb201','|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|','(((0)@nor_conv_1x1)@nor_conv_1x1+(0)@nor_conv_1x1)@nor_conv_3x3+((0)@nor_conv_1x1)@nor_conv_3x3+(0)@avg_pool_3x3','[0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]',643386,90358410);
CREATE TABLE features (
	id INTEGER NOT NULL, 
	"key" VARCHAR(512) NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	value FLOAT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_features_key_name UNIQUE ("key", name)
);
INSERT INTO features VALUES(1,'abc','synflow@x',1.5);
INSERT INTO features VALUES(2,'def','synflow@x',NULL);
CREATE TABLE searches (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	config JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO searches VALUES(1,'tab1','{"acquisition": "logei", "batch_size": 2, "benchmark": "nb201-cifar10", "cells_per_stage": 1, "channels": 16, "epochs": 5, "metric": null, "objectives": ["accuracy"], "seed": 0, "strategy": "rs", "surrogate": "gp"}','2026-11-29 12:34:07.458331');
INSERT INTO searches VALUES(2,'live1','{"acquisition": "logei", "batch_size": 2, "benchmark": "digits", "cells_per_stage": 1, "channels": 4, "epochs": 1, "metric": null, "objectives": ["accuracy"], "seed": 0, "strategy": "rs", "surrogate": "gp"}','2026-11-29 12:34:10.078806');
CREATE TABLE evaluations (
	id INTEGER NOT NULL, 
	architecture_id INTEGER NOT NULL, 
	canonical_key VARCHAR(512) NOT NULL, 
	dataset VARCHAR(64) NOT NULL, 
	channels INTEGER NOT NULL, 
	cells_per_stage INTEGER NOT NULL, 
	epochs INTEGER NOT NULL, 
	seed INTEGER NOT NULL, 
	train_config JSON NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	valid_acc FLOAT, 
	test_acc FLOAT, 
	train_losses JSON, 
	valid_accs JSON, 
	train_seconds FLOAT, 
	params BIGINT, 
	flops BIGINT, 
	device VARCHAR(64), 
	message TEXT NOT NULL, 
	mlflow_run_id VARCHAR(64), 
	worker VARCHAR(255) NOT NULL, 
	created_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_evaluations_setting UNIQUE (canonical_key, dataset, channels, cells_per_stage, epochs, seed), 
	FOREIGN KEY(architecture_id) REFERENCES architectures (id)
);
INSERT INTO evaluations VALUES(1,1,'((0)@avg_pool_3x3)@avg_pool_3x3+((0)@avg_pool_3x3+(0)@nor_conv_3x3)@nor_conv_1x1+(0)@nor_conv_1x1','digits',4,1,1,0,'{"epochs": 1, "batch_size": 64, "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.0005}','ok',25.626740947075209221,23.39832869080779787,'[1.7777196168899536]','[25.62674094707521]',1.639979842999991888,8686,64938,'cpu','',NULL,'vm:2924','2026-11-29 12:34:02.143794','2026-11-29 12:34:03.792697');
INSERT INTO evaluations VALUES(2,2,'(((0)@avg_pool_3x3)@nor_conv_1x1+(0)@nor_conv_3x3)@nor_conv_1x1+((0)@avg_pool_3x3)@avg_pool_3x3+(0)@nor_conv_1x1','digits',4,1,1,0,'{"epochs": 1, "batch_size": 64, "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.0005}','ok',14.763231197771586877,13.370473537604457448,'[1.8057252168655396]','[14.763231197771587]',0.26533970999997791295,9078,68010,'cpu','',NULL,'vm:2924','2026-11-29 12:34:03.794594','2026-11-29 12:34:04.064393');
INSERT INTO evaluations VALUES(3,3,'#+(((0)@nor_conv_3x3)@nor_conv_1x1+(0)@nor_conv_3x3)@nor_conv_1x1+(0)@avg_pool_3x3','digits',4,1,1,0,'{"epochs": 1, "batch_size": 64, "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.0005}','ok',35.654596100278553195,32.31197771587743972,'[1.7618215084075928]','[35.65459610027855]',0.26488649399999530942,11766,92586,'cpu','',NULL,'vm:2924','2026-11-29 12:34:04.065425','2026-11-29 12:34:04.334375');
INSERT INTO evaluations VALUES(4,4,'#+(((0)@avg_pool_3x3)@nor_conv_1x1+(0)@nor_conv_1x1)@nor_conv_3x3+((0)@avg_pool_3x3)@nor_conv_3x3','digits',4,1,1,0,'{"epochs": 1, "batch_size": 64, "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.0005}','ok',10.584958217270195035,10.306406685236769504,'[1.7328486442565918]','[10.584958217270195]',1.5987024529999871447,11766,92586,'cpu','',NULL,'vm:2936','2026-11-29 12:34:11.051429','2026-11-29 12:34:12.659683');
INSERT INTO evaluations VALUES(5,5,'#+(((0)@nor_conv_3x3)@avg_pool_3x3+(0)@nor_conv_3x3)@avg_pool_3x3+((0)@nor_conv_3x3)@avg_pool_3x3','digits',4,1,1,0,'{"epochs": 1, "batch_size": 64, "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.0005}','ok',52.367688022284120561,51.253481894150418442,'[1.8416798114776611]','[52.36768802228412]',0.22039240200001586345,10982,86442,'cpu','',NULL,'vm:2936','2026-11-29 12:34:12.663815','2026-11-29 12:34:12.888767');
INSERT INTO evaluations VALUES(6,6,'(((0)@nor_conv_3x3)@nor_conv_1x1+0)@nor_conv_3x3+((0)@nor_conv_3x3)@avg_pool_3x3+(0)@avg_pool_3x3','digits',4,1,1,0,'{"epochs": 1, "batch_size": 64, "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.0005}','ok',57.938718662952645387,60.724233983286907802,'[1.6756069660186768]','[57.938718662952645]',0.23351980500001445761,11374,89514,'cpu','',NULL,'vm:2936','2026-11-29 12:34:12.896668','2026-11-29 12:34:13.134495');
INSERT INTO evaluations VALUES(7,7,'(((0)@nor_conv_1x1)@nor_conv_1x1+(0)@nor_conv_1x1)@nor_conv_3x3+((0)@nor_conv_1x1)@nor_conv_3x3+(0)@avg_pool_3x3','digits',4,1,1,0,'{"epochs": 1, "batch_size": 64, "learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.0005}','ok',26.18384401114206028,21.727019498607241132,'[1.7908388376235962]','[26.18384401114206]',0.25643910099995537166,12158,95658,'cpu','',NULL,'vm:2936','2026-11-29 12:34:13.136536','2026-11-29 12:34:13.397432');
CREATE TABLE search_trials (
	id INTEGER NOT NULL, 
	search_id INTEGER NOT NULL, 
	step INTEGER NOT NULL, 
	arch VARCHAR(255) NOT NULL, 
	"values" JSON NOT NULL, 
	evaluation_id INTEGER, 
	cost_seconds FLOAT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_search_trials_search_arch UNIQUE (search_id, arch), 
	FOREIGN KEY(search_id) REFERENCES searches (id), 
	FOREIGN KEY(evaluation_id) REFERENCES evaluations (id) ON DELETE SET NULL
);
INSERT INTO search_trials VALUES(1,1,1,'|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|','{"cifar10_valid_acc_200ep": 87.34199999, "cost_s": 2501.027584, "params_mb_cifar10": 0.615386, "test_value": 91.44, "value": 87.34199999}',NULL,2501.0275839999999334,'2026-11-29 12:34:07.615396');
INSERT INTO search_trials VALUES(2,1,2,'|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|avg_pool_3x3~1|avg_pool_3x3~2|','{"cifar10_valid_acc_200ep": 84.148, "cost_s": 2259.762259, "params_mb_cifar10": 0.559386, "test_value": 87.95, "value": 84.148}',NULL,2259.7622590000000855,'2026-11-29 12:34:07.617846');
INSERT INTO search_trials VALUES(3,1,3,'|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|avg_pool_3x3~1|nor_conv_3x3~2|','{"cifar10_valid_acc_200ep": 87.99399999, "cost_s": 2218.058228, "params_mb_cifar10": 0.587386, "test_value": 91.59, "value": 87.99399999}',NULL,2218.0582279999998718,'2026-11-29 12:34:07.623171');
INSERT INTO search_trials VALUES(4,1,4,'|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|','{"cifar10_valid_acc_200ep": 89.112, "cost_s": 2791.240354, "params_mb_cifar10": 0.643386, "test_value": 91.79, "value": 89.112}',NULL,2791.2403540000000248,'2026-11-29 12:34:07.624182');
INSERT INTO search_trials VALUES(5,1,5,'|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_1x1~2|','{"cifar10_valid_acc_200ep": 88.08, "cost_s": 2049.589475, "params_mb_cifar10": 0.372346, "test_value": 91.49333333, "value": 88.08}',NULL,2049.5894750000002203,'2026-11-29 12:34:07.627800');
INSERT INTO search_trials VALUES(6,1,6,'|skip_connect~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|','{"cifar10_valid_acc_200ep": 63.194, "cost_s": 910.4378819, "params_mb_cifar10": 0.073306, "test_value": 66.11, "value": 63.194}',NULL,910.43788189999997938,'2026-11-29 12:34:07.628949');
INSERT INTO search_trials VALUES(7,2,1,'|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|','{"cost_s": 1.5987024529999871, "flops": 92586.0, "params": 11766.0, "test_value": 10.30640668523677, "train_seconds": 1.5987024529999871, "valid_acc": 10.584958217270195, "value": 10.584958217270195}',4,1.5987024529999871447,'2026-11-29 12:34:12.662775');
INSERT INTO search_trials VALUES(8,2,2,'|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|avg_pool_3x3~1|avg_pool_3x3~2|','{"cost_s": 0.22039240200001586, "flops": 86442.0, "params": 10982.0, "test_value": 51.25348189415042, "train_seconds": 0.22039240200001586, "valid_acc": 52.36768802228412, "value": 52.36768802228412}',5,0.22039240200001586345,'2026-11-29 12:34:12.890283');
INSERT INTO search_trials VALUES(9,2,3,'|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|avg_pool_3x3~1|nor_conv_3x3~2|','{"cost_s": 0.23351980500001446, "flops": 89514.0, "params": 11374.0, "test_value": 60.72423398328691, "train_seconds": 0.23351980500001446, "valid_acc": 57.938718662952645, "value": 57.938718662952645}',6,0.23351980500001445761,'2026-11-29 12:34:13.135842');
INSERT INTO search_trials VALUES(10,2,4,'|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|','{"cost_s": 0.25643910099995537, "flops": 95658.0, "params": 12158.0, "test_value": 21.72701949860724, "train_seconds": 0.25643910099995537, "valid_acc": 26.18384401114206, "value": 26.18384401114206}',7,0.25643910099995537166,'2026-11-29 12:34:13.398646');
CREATE INDEX ix_architectures_canonical_key ON architectures (canonical_key);
CREATE INDEX ix_evaluations_dataset_status ON evaluations (dataset, status);
COMMIT;
