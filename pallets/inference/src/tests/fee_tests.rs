//! Who a call pays, and how much.

use frame_support::assert_ok;

use super::*;

fn infer(caller: AccountId, model: ModelId) {
	assert_ok!(Inference::infer(RuntimeOrigin::signed(caller), model, input("mlp"), FEE));
}

#[test]
fn with_no_host_serving_the_owner_receives_the_whole_fee() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		let (owner, caller) = (free(OWNER), free(CALLER));
		infer(CALLER, model);
		assert_eq!(free(OWNER), owner + FEE);
		// The fee paid, the result's deposit held.
		assert!(held_for_results(CALLER) > 0);
		assert_eq!(free(CALLER), caller - FEE - held_for_results(CALLER));
		assert_eq!(free(HOST), 10);
	});
}

#[test]
fn with_hosts_serving_they_receive_their_share_and_the_owner_the_rest() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		HasHosts::set(vec![model]);
		let (owner, caller, host) = (free(OWNER), free(CALLER), free(HOST));
		infer(CALLER, model);
		// 30 % of 1,000.
		assert_eq!(free(HOST), host + 300);
		assert_eq!(free(OWNER), owner + 700);
		assert_eq!(free(CALLER), caller - FEE - held_for_results(CALLER));
		HasHosts::set(vec![]);
	});
}

#[test]
fn an_owner_calling_their_own_model_pays_only_the_hosts() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		HasHosts::set(vec![model]);
		let (owner, host) = (free(OWNER), free(HOST));
		infer(OWNER, model);
		assert_eq!(free(HOST), host + 300);
		assert_eq!(free(OWNER), owner - 300 - held_for_results(OWNER));
		HasHosts::set(vec![]);
	});
}

#[test]
fn a_free_model_moves_no_funds() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		assert_ok!(Models::set_fee(RuntimeOrigin::signed(OWNER), model, 0));
		HasHosts::set(vec![model]);
		let (owner, caller, host) = (free(OWNER), free(CALLER), free(HOST));
		assert_ok!(Inference::infer(RuntimeOrigin::signed(POOR), model, input("mlp"), 0));
		assert_eq!((free(OWNER), free(CALLER), free(HOST)), (owner, caller, host));
		HasHosts::set(vec![]);
	});
}

#[test]
fn a_fee_the_caller_can_pay_only_by_closing_their_account_is_refused() {
	new_test_ext().execute_with(|| {
		let model = register("mlp");
		// Exactly the fee: paying it would leave nothing, below the existential deposit.
		assert_ok!(Balances::transfer_allow_death(
			RuntimeOrigin::signed(CALLER),
			OWNER,
			ENDOWMENT - FEE
		));
		let root = state_root();
		let error =
			Inference::infer(RuntimeOrigin::signed(CALLER), model, input("mlp"), FEE).unwrap_err();
		assert_eq!(error.error, crate::Error::<Test>::InsufficientBalance.into());
		assert_eq!(state_root(), root);
	});
}
